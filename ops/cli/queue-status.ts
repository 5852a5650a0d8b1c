/** The data `status` reports for the ingest queue and its DLQ, and its human form. */
import { ListDeadLetterSourceQueuesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { formatDuration, labelled, messageCountText } from './format.ts';
import { AGE_SOURCES, oldestMessageAge, type AgeMethod, type OldestMessageAge } from './oldest-message-age.ts';
import { messageCountsOf, readQueueSnapshot, type QueueSnapshot, type RedrivePolicy } from './queue-snapshot.ts';
import { isUnsupportedOperation } from './unsupported-operation.ts';

export interface QueueStatus {
  readonly url: string;
  readonly name: string;
  /** Visible + in flight + delayed: what the alarms count. A message held by a peek or a worker is still in the queue. */
  readonly messages: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  readonly oldestMessage: OldestMessageAge;
  readonly redrivePolicy: RedrivePolicy | undefined;
}

export type RedriveSources =
  | { readonly reported: true; readonly queueUrls: readonly string[] }
  | { readonly reported: false; readonly reason: string };

export interface IngestStatus {
  readonly queue: QueueStatus;
  readonly deadLetterQueue: QueueStatus & { readonly redriveSources: RedriveSources };
  /** The ingest queue's redrive policy names this DLQ. */
  readonly queueRedrivesToDeadLetterQueue: boolean;
}

async function queueStatus(sqs: SQSClient, snapshot: QueueSnapshot, ageMethod: AgeMethod, nowMs: number): Promise<QueueStatus> {
  const { url, name, redrivePolicy } = snapshot;
  return {
    url,
    name,
    ...messageCountsOf(snapshot),
    redrivePolicy,
    oldestMessage: await oldestMessageAge(sqs, snapshot, ageMethod, nowMs),
  };
}

async function redriveSourcesOf(sqs: SQSClient, dlqUrl: string): Promise<RedriveSources> {
  try {
    const { queueUrls = [] } = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl, MaxResults: 1000 }));
    return { reported: true, queueUrls };
  } catch (error) {
    if (!isUnsupportedOperation(error)) throw error;
    return { reported: false, reason: 'the endpoint has no ListDeadLetterSourceQueues' };
  }
}

export async function readIngestStatus(
  sqs: SQSClient,
  urls: { readonly queueUrl: string; readonly dlqUrl: string },
  ageMethod: AgeMethod,
  nowMs: number,
): Promise<IngestStatus> {
  const [queueSnapshot, dlqSnapshot] = await Promise.all([readQueueSnapshot(sqs, urls.queueUrl), readQueueSnapshot(sqs, urls.dlqUrl)]);
  const [queue, deadLetterQueue, redriveSources] = await Promise.all([
    queueStatus(sqs, queueSnapshot, ageMethod, nowMs),
    queueStatus(sqs, dlqSnapshot, ageMethod, nowMs),
    redriveSourcesOf(sqs, urls.dlqUrl),
  ]);
  return {
    queue,
    deadLetterQueue: { ...deadLetterQueue, redriveSources },
    queueRedrivesToDeadLetterQueue: queueSnapshot.redrivePolicy?.deadLetterTargetArn === dlqSnapshot.arn,
  };
}

export function oldestText(age: OldestMessageAge): string {
  switch (age.source) {
    case AGE_SOURCES.cloudWatch:
      return age.ageSeconds === undefined
        ? `no CloudWatch data in the last ${age.windowMinutes} min`
        : `${formatDuration(age.ageSeconds)} (CloudWatch, ${age.measuredAt ?? 'latest'})`;
    case AGE_SOURCES.estimate:
      return age.ageSeconds === undefined
        ? 'unknown (the sample came back empty)'
        : `~${formatDuration(age.ageSeconds)} (estimate from ${age.sampledMessages} sampled message${age.sampledMessages === 1 ? '' : 's'})`;
    case AGE_SOURCES.notMeasured:
      return age.reason;
  }
}

function queueLines(title: string, status: QueueStatus, extra: ReadonlyArray<readonly [string, string]>): string[] {
  return [
    `${title}: ${status.name}  ${status.url}`,
    ...labelled(
      [
        ['messages', `${status.messages} (visible + in flight + delayed)`],
        ['visible', String(status.visible)],
        ['in flight', String(status.inFlight)],
        ['delayed', String(status.delayed)],
        ['oldest message', oldestText(status.oldestMessage)],
        ...extra,
      ],
      '  ',
    ),
  ];
}

/** The first line: what an alarm is about, every message in the DLQ. */
export function deadLetterHeadline(dlq: QueueStatus): string {
  if (dlq.messages === 0) return 'DLQ: empty';
  return `DLQ: ${messageCountText(dlq)}; \`dlq peek\` shows why they failed`;
}

export function statusLines(status: IngestStatus): string[] {
  const policy = status.queue.redrivePolicy;
  const sources = status.deadLetterQueue.redriveSources;
  return [
    deadLetterHeadline(status.deadLetterQueue),
    `ingest queue: ${messageCountText(status.queue)}`,
    '',
    ...queueLines('ingest queue', status.queue, [
      [
        'redrive policy',
        policy === undefined
          ? 'none: failing messages are never dead-lettered by SQS'
          : `to ${policy.deadLetterTargetArn} after maxReceiveCount ${policy.maxReceiveCount} receives${status.queueRedrivesToDeadLetterQueue ? '' : ' (not the DLQ below!)'}`,
      ],
    ]),
    ...queueLines('dead-letter queue', status.deadLetterQueue, [
      ['redrive sources', sources.reported ? sources.queueUrls.join(', ') || 'none' : `not reported: ${sources.reason}`],
    ]),
  ];
}
