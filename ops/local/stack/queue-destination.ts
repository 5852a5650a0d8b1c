import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { parseQueueArn } from './queue-arn.ts';
import type { SelfClients } from './self-clients.ts';

/** Resolves a queue ARN to its URL the way S3 would reach it: by name, in the ARN's region. */
export async function queueUrlOf(clients: SelfClients, queueArn: string): Promise<string> {
  const { region, queueName } = parseQueueArn(queueArn);
  const { QueueUrl } = await clients.forRegion(region).sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  if (QueueUrl === undefined) throw new Error(`GetQueueUrl returned no URL for ${queueArn}`);
  return QueueUrl;
}

export async function sendToQueue(clients: SelfClients, queueArn: string, body: string): Promise<void> {
  const queueUrl = await queueUrlOf(clients, queueArn);
  const { region } = parseQueueArn(queueArn);
  await clients.forRegion(region).sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}
