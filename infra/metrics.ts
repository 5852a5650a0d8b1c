import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** The CloudWatch metrics that scaling, alarms and the dashboard share, all at one-minute resolution. */
export interface IngestMetrics {
  readonly visible: cloudwatch.Metric;
  readonly inFlight: cloudwatch.Metric;
  readonly oldestMessageAgeSeconds: cloudwatch.Metric;
  readonly deleted: cloudwatch.Metric;
  readonly received: cloudwatch.Metric;
  /**
   * Every message in the DLQ, whatever its state: visible + in flight + delayed. A peek (`ops dlq peek`, the
   * console's poll) makes messages invisible for a while; counting only the visible ones would read 0 then.
   * Nothing in the pipeline sends to the DLQ with a delay, but a message sent by hand with one is in the DLQ
   * all the same, and `ops smoke` calls the DLQ empty only when all three counts are 0.
   */
  readonly deadLetterMessages: cloudwatch.MathExpression;
  /** Container Insights; absent while a service has no tasks, hence FILL(…, 0) wherever it is used. */
  readonly runningTasks: cloudwatch.Metric;
  readonly desiredTasks: cloudwatch.Metric;
}

export const ONE_MINUTE = Duration.minutes(1);

export function ingestMetrics(queue: sqs.IQueue, deadLetterQueue: sqs.IQueue, service: ecs.FargateService): IngestMetrics {
  const containerInsights = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
      statistic: cloudwatch.Stats.AVERAGE,
      period: ONE_MINUTE,
    });
  return {
    visible: queue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
    inFlight: queue.metricApproximateNumberOfMessagesNotVisible({ period: ONE_MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
    oldestMessageAgeSeconds: queue.metricApproximateAgeOfOldestMessage({ period: ONE_MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
    deleted: queue.metricNumberOfMessagesDeleted({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
    received: queue.metricNumberOfMessagesReceived({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
    deadLetterMessages: deadLetterMessages(deadLetterQueue),
    runningTasks: containerInsights('RunningTaskCount'),
    desiredTasks: containerInsights('DesiredTaskCount'),
  };
}

function deadLetterMessages(deadLetterQueue: sqs.IQueue): cloudwatch.MathExpression {
  const maximum = { period: ONE_MINUTE, statistic: cloudwatch.Stats.MAXIMUM };
  return new cloudwatch.MathExpression({
    expression: 'FILL(visible, 0) + FILL(in_flight, 0) + FILL(delayed, 0)',
    usingMetrics: {
      visible: deadLetterQueue.metricApproximateNumberOfMessagesVisible(maximum),
      in_flight: deadLetterQueue.metricApproximateNumberOfMessagesNotVisible(maximum),
      delayed: deadLetterQueue.metricApproximateNumberOfMessagesDelayed(maximum),
    },
    period: ONE_MINUTE,
    label: 'dead-letter queue (visible + in flight + delayed)',
  });
}
