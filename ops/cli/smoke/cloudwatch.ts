/**
 * CloudWatch for the smoke test on AWS: the alarm API and the queue's NumberOfMessagesDeleted. Imported
 * lazily, only on AWS: the CloudWatch client is large, and there is no CloudWatch locally.
 */
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricStatisticsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmApi } from './alarm.ts';

export interface SmokeCloudWatch {
  readonly alarms: AlarmApi;
  /** Sum of AWS/SQS NumberOfMessagesDeleted for the queue from the minute of `sinceMs` on; undefined before any datapoint. */
  readonly deletedSince: (queueName: string, sinceMs: number, nowMs: number) => Promise<number | undefined>;
  readonly destroy: () => void;
}

const MINUTE_MS = 60_000;

export function createSmokeCloudWatch(region: string): SmokeCloudWatch {
  const client = new CloudWatchClient({ region });
  return {
    alarms: {
      async describeAlarms(input) {
        const { MetricAlarms: alarms = [], NextToken: nextToken } = await client.send(new DescribeAlarmsCommand(input));
        return { alarms, nextToken };
      },
      async setAlarmState(input) {
        await client.send(new SetAlarmStateCommand(input));
      },
    },
    deletedSince: async (queueName, sinceMs, nowMs) => {
      const { Datapoints: points = [] } = await client.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/SQS',
          MetricName: 'NumberOfMessagesDeleted',
          Dimensions: [{ Name: 'QueueName', Value: queueName }],
          StartTime: new Date(Math.floor(sinceMs / MINUTE_MS) * MINUTE_MS),
          EndTime: new Date(nowMs + MINUTE_MS),
          Period: 60,
          Statistics: ['Sum'],
        }),
      );
      if (points.length === 0) return undefined;
      return points.reduce((sum, point) => sum + (point.Sum ?? 0), 0);
    },
    destroy: () => client.destroy(),
  };
}
