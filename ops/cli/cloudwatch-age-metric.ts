/**
 * CloudWatch's ApproximateAgeOfOldestMessage for a queue. Imported lazily by `status`, only on AWS:
 * the CloudWatch client is large, and no other command needs it.
 */
import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import type { OldestAgeMetric } from './oldest-message-age.ts';

const WINDOW_MS = 15 * 60 * 1000;

export function createCloudWatchAgeMetric(region: string): OldestAgeMetric {
  const cloudWatch = new CloudWatchClient({ region });
  return {
    windowMinutes: WINDOW_MS / 60_000,
    async latest(queueName, nowMs) {
      const { Datapoints: points = [] } = await cloudWatch.send(
        new GetMetricStatisticsCommand({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: [{ Name: 'QueueName', Value: queueName }],
          StartTime: new Date(nowMs - WINDOW_MS),
          EndTime: new Date(nowMs),
          Period: 60,
          Statistics: ['Maximum'],
        }),
      );
      let latest: { ageSeconds: number; measuredAt: Date } | undefined;
      for (const { Timestamp: measuredAt, Maximum: ageSeconds } of points) {
        if (measuredAt === undefined || ageSeconds === undefined) continue;
        if (latest === undefined || measuredAt > latest.measuredAt) latest = { ageSeconds, measuredAt };
      }
      return latest && { ageSeconds: latest.ageSeconds, measuredAt: latest.measuredAt.toISOString() };
    },
    destroy: () => cloudWatch.destroy(),
  };
}
