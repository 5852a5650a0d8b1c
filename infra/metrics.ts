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
  readonly deadLetterVisible: cloudwatch.Metric;
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
    deadLetterVisible: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ONE_MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
    runningTasks: containerInsights('RunningTaskCount'),
    desiredTasks: containerInsights('DesiredTaskCount'),
  };
}
