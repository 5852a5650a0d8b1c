import { S3RequestError } from './s3-request-error.ts';

export interface QueueArn {
  readonly region: string;
  readonly accountId: string;
  readonly queueName: string;
}

const SQS_QUEUE_ARN = /^arn:[a-z-]+:sqs:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,80}(?:\.fifo)?)$/;

export function parseQueueArn(arn: string): QueueArn {
  const match = SQS_QUEUE_ARN.exec(arn);
  const [, region, accountId, queueName] = match ?? [];
  if (region === undefined || accountId === undefined || queueName === undefined) {
    throw new S3RequestError('InvalidArgument', `The ARN is not well formed: ${arn}`);
  }
  if (queueName.endsWith('.fifo')) {
    throw new S3RequestError('InvalidArgument', `S3 does not send event notifications to FIFO queues: ${arn}`);
  }
  return { region, accountId, queueName };
}
