/** Turns queue locators into URLs: GetQueueUrl for local names, the redrive policy for a DLQ not given. */
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { discoverDeadLetterQueue } from '../../worker/queue/dead-letter.ts';
import type { DeadLetterQueueLocator, QueueLocator } from './settings.ts';

export async function queueUrlOf(sqs: SQSClient, locator: QueueLocator): Promise<string> {
  if ('url' in locator) return locator.url;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: locator.name }));
  if (QueueUrl === undefined) throw new Error(`SQS returned no URL for the queue ${locator.name}`);
  return QueueUrl;
}

export async function deadLetterQueueUrlOf(sqs: SQSClient, locator: DeadLetterQueueLocator): Promise<string> {
  if ('fromRedrivePolicyOf' in locator) return discoverDeadLetterQueue(sqs, await queueUrlOf(sqs, locator.fromRedrivePolicyOf));
  return queueUrlOf(sqs, locator);
}

/** The last path segment of a queue URL: its name. */
export function queueNameOf(queueUrl: string): string {
  return queueUrl.replace(/\/+$/, '').split('/').pop() ?? queueUrl;
}
