/**
 * `aws sqs ...` works on the running local stack: the real AWS CLI (Debian's v2.9 speaks SQS's query
 * protocol, form-encoded `Action=...` answered in XML) drives every call an operator makes, and
 * each answer is checked against what the SDK (JSON protocol) sees of the same queue. A second part
 * speaks the query protocol over plain HTTP, so that it is proved whatever protocol the installed
 * CLI speaks.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { testClients, uniqueName } from '../../../../support/emulator.ts';
import { awsCliJson, awsCliTitle, describeAwsCli, requireAwsCli, runAwsCli, type AwsCliTarget, testTarget } from './aws-cli-harness.ts';

// Each CLI call starts a Python interpreter: a second or more on these machines, and a test makes up to eight.
jest.setTimeout(120_000);

const md5Hex = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

interface CliMessage {
  MessageId: string;
  ReceiptHandle: string;
  MD5OfBody: string;
  Body: string;
  Attributes?: Record<string, string>;
  MD5OfMessageAttributes?: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
}

describeAwsCli(`the AWS CLI on the local stack: ${awsCliTitle}`, () => {
  let clients: AwsClients;
  let target: AwsCliTarget;
  const queueName = uniqueName('cli');
  let queueUrl: string;
  let firstHandle = '';
  // Every character XML treats specially, a CR LF that an XML parser would fold to LF, and non-ASCII.
  const body = `{"key":"in/a<b>&c.jsonl","quote":"'"}\r\nline 2 ü 温`;

  beforeAll(() => {
    requireAwsCli();
    clients = testClients();
    target = testTarget();
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  const aws = (...args: string[]) => awsCliJson(target, args);

  async function countsByCli(): Promise<{ visible: string | undefined; inFlight: string | undefined }> {
    const { Attributes } = (await aws(
      'sqs',
      'get-queue-attributes',
      '--queue-url',
      queueUrl,
      '--attribute-names',
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
    )) as { Attributes: Record<string, string> };
    return { visible: Attributes['ApproximateNumberOfMessages'], inFlight: Attributes['ApproximateNumberOfMessagesNotVisible'] };
  }

  async function receiveByCli(visibilityTimeoutSeconds: number): Promise<CliMessage[]> {
    const answer = (await aws(
      'sqs',
      'receive-message',
      '--queue-url',
      queueUrl,
      '--attribute-names',
      'All',
      '--message-attribute-names',
      'All',
      '--max-number-of-messages',
      '10',
      '--visibility-timeout',
      String(visibilityTimeoutSeconds),
      '--wait-time-seconds',
      '1',
    )) as { Messages?: CliMessage[] } | undefined;
    return answer?.Messages ?? [];
  }

  it('creates a queue, finds its URL and lists it (create-queue, get-queue-url, list-queues)', async () => {
    const created = (await aws('sqs', 'create-queue', '--queue-name', queueName, '--attributes', 'VisibilityTimeout=45')) as { QueueUrl: string };
    const { QueueUrl: sdkUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    expect(created.QueueUrl).toBe(sdkUrl);
    queueUrl = created.QueueUrl;

    expect(await aws('sqs', 'get-queue-url', '--queue-name', queueName)).toEqual({ QueueUrl: queueUrl });
    expect(await aws('sqs', 'list-queues', '--queue-name-prefix', queueName)).toEqual({ QueueUrls: [queueUrl] });
  });

  it('shows every queue attribute (get-queue-attributes --attribute-names All)', async () => {
    const { Attributes } = (await aws('sqs', 'get-queue-attributes', '--queue-url', queueUrl, '--attribute-names', 'All')) as {
      Attributes: Record<string, string>;
    };
    const { Attributes: sdkAttributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] }));
    expect(Attributes).toEqual(sdkAttributes);
    expect(Attributes).toMatchObject({ VisibilityTimeout: '45', ApproximateNumberOfMessages: '0', QueueArn: expect.stringContaining(queueName) });
  });

  it('changes a queue attribute (set-queue-attributes)', async () => {
    expect(await aws('sqs', 'set-queue-attributes', '--queue-url', queueUrl, '--attributes', 'MaximumMessageSize=262144')).toBeUndefined();
    const { Attributes = {} } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MaximumMessageSize'] }));
    expect(Attributes).toEqual({ MaximumMessageSize: '262144' });
  });

  it('sends a message with message attributes, and receives it with its attributes and message attributes, byte for byte', async () => {
    // Act
    const sent = (await aws(
      'sqs',
      'send-message',
      '--queue-url',
      queueUrl,
      '--message-body',
      body,
      '--message-attributes',
      JSON.stringify({ reason: { DataType: 'String', StringValue: 'permanent: <bad> & "worse"' }, raw: { DataType: 'Binary', BinaryValue: 'AAEC/w==' } }),
    )) as { MessageId: string; MD5OfMessageBody: string; MD5OfMessageAttributes: string };
    const [received, ...more] = await receiveByCli(30);

    // Assess
    expect(sent.MD5OfMessageBody).toBe(md5Hex(body));
    expect(sent.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(more).toEqual([]);
    expect(received).toMatchObject({
      MessageId: sent.MessageId,
      MD5OfBody: md5Hex(body),
      Body: body,
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      MessageAttributes: {
        reason: { DataType: 'String', StringValue: 'permanent: <bad> & "worse"' },
        raw: { DataType: 'Binary', BinaryValue: 'AAEC/w==' },
      },
    });
    expect(received?.Attributes).toMatchObject({ ApproximateReceiveCount: '1', SenderId: expect.any(String), SentTimestamp: expect.stringMatching(/^\d+$/) });
    expect(await countsByCli()).toEqual({ visible: '0', inFlight: '1' });
    firstHandle = received?.ReceiptHandle ?? '';
  });

  it('makes a message visible again and deletes it by its latest receipt handle (change-message-visibility, delete-message)', async () => {
    // Prepare: the message the test before received, in flight for 30 s under firstHandle.
    expect(await countsByCli()).toEqual({ visible: '0', inFlight: '1' });

    // Act: release it, receive it again, delete it by the new handle.
    expect(await aws('sqs', 'change-message-visibility', '--queue-url', queueUrl, '--receipt-handle', firstHandle, '--visibility-timeout', '0')).toBeUndefined();
    const countsReleased = await countsByCli();
    const [again, ...more] = await receiveByCli(30);

    // Assess
    expect(countsReleased).toEqual({ visible: '1', inFlight: '0' });
    expect(more).toEqual([]);
    expect(again).toMatchObject({ Body: body, Attributes: { ApproximateReceiveCount: '2' } });
    // The first handle is stale now, as on SQS: the strict limits hold for query-protocol requests too.
    const refused = await runAwsCli(target, ['sqs', 'change-message-visibility', '--queue-url', queueUrl, '--receipt-handle', firstHandle, '--visibility-timeout', '0']);
    expect(refused.code).toBe(254);
    expect(refused.stderr).toContain('(InvalidParameterValue) when calling the ChangeMessageVisibility operation');
    expect(await aws('sqs', 'delete-message', '--queue-url', queueUrl, '--receipt-handle', again?.ReceiptHandle ?? '')).toBeUndefined();
    expect(await countsByCli()).toEqual({ visible: '0', inFlight: '0' });
  });

  it('empties a queue (purge-queue)', async () => {
    for (const index of [1, 2, 3]) await clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `junk ${index}` }));
    expect(await countsByCli()).toEqual({ visible: '3', inFlight: '0' });

    expect(await aws('sqs', 'purge-queue', '--queue-url', queueUrl)).toBeUndefined();

    expect(await countsByCli()).toEqual({ visible: '0', inFlight: '0' });
  });

  it("answers a missing queue with SQS's error code (AWS.SimpleQueueService.NonExistentQueue)", async () => {
    const missing = uniqueName('missing');
    const byName = await runAwsCli(target, ['sqs', 'get-queue-url', '--queue-name', missing]);
    expect(byName.code).toBe(254);
    expect(byName.stderr).toContain(
      'An error occurred (AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueUrl operation: The specified queue does not exist for this wsdl version.',
    );

    const byUrl = await runAwsCli(target, ['sqs', 'get-queue-attributes', '--queue-url', queueUrl.replace(queueName, missing), '--attribute-names', 'All']);
    expect(byUrl.code).toBe(254);
    expect(byUrl.stderr).toContain('(AWS.SimpleQueueService.NonExistentQueue) when calling the GetQueueAttributes operation');
  });

  it('refuses what SQS refuses: 11 message attributes', async () => {
    const attributes = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`a${index}`, { DataType: 'String', StringValue: 'v' }]));
    const refused = await runAwsCli(target, ['sqs', 'send-message', '--queue-url', queueUrl, '--message-body', 'x', '--message-attributes', JSON.stringify(attributes)]);
    expect(refused.code).toBe(254);
    expect(refused.stderr).toContain(
      'An error occurred (InvalidParameterValue) when calling the SendMessage operation: Number of message attributes [11] exceeds the allowed maximum [10].',
    );
  });

  it('deletes the queue (delete-queue)', async () => {
    expect(await aws('sqs', 'delete-queue', '--queue-url', queueUrl)).toBeUndefined();
    expect((await runAwsCli(target, ['sqs', 'get-queue-url', '--queue-name', queueName])).stderr).toContain('NonExistentQueue');
  });
});

describe("SQS's query protocol over plain HTTP on the local stack (whatever protocol the installed CLI speaks)", () => {
  let clients: AwsClients;
  let endpoint: string;

  beforeAll(() => {
    clients = testClients();
    endpoint = testTarget().endpoint;
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  async function postForm(path: string, form: Record<string, string>): Promise<{ status: number; contentType: string | null; requestId: string | null; xml: string }> {
    const response = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams(form).toString(),
    });
    return { status: response.status, contentType: response.headers.get('content-type'), requestId: response.headers.get('x-amzn-requestid'), xml: await response.text() };
  }

  it("answers an error with SQS's ErrorResponse, its HTTP status and the request id in header and body", async () => {
    const answer = await postForm('/', { Action: 'GetQueueUrl', Version: '2012-11-05', QueueName: uniqueName('missing') });

    expect(answer.status).toBe(400);
    expect(answer.contentType).toMatch(/^text\/xml/);
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.xml).toBe(
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type>' +
        '<Code>AWS.SimpleQueueService.NonExistentQueue</Code><Message>The specified queue does not exist for this wsdl version.</Message>' +
        `<Detail/></Error><RequestId>${answer.requestId}</RequestId></ErrorResponse>`,
    );
  });

  it("answers a request posted to the queue's own URL, as older clients send it", async () => {
    const name = uniqueName('query-path');
    await clients.sqs.send(new CreateQueueCommand({ QueueName: name }));

    const answer = await postForm(`/000000000000/${name}`, { Action: 'GetQueueAttributes', Version: '2012-11-05', 'AttributeName.1': 'QueueArn' });

    expect(answer.status).toBe(200);
    expect(answer.xml).toBe(
      '<?xml version="1.0"?><GetQueueAttributesResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><GetQueueAttributesResult>' +
        `<Attribute><Name>QueueArn</Name><Value>arn:aws:sqs:${testTarget().region}:000000000000:${name}</Value></Attribute></GetQueueAttributesResult>` +
        `<ResponseMetadata><RequestId>${answer.requestId}</RequestId></ResponseMetadata></GetQueueAttributesResponse>`,
    );
  });

  it('names the way out for an SQS action it does not translate', async () => {
    const answer = await postForm('/', { Action: 'SendMessageBatch', Version: '2012-11-05' });
    expect(answer.status).toBe(400);
    expect(answer.xml).toContain('<Code>InvalidAction</Code><Message>The local stack does not translate SendMessageBatch');
  });

  it("leaves SNS's form-encoded requests to fauxqs's SNS", async () => {
    const answer = await postForm('/', { Action: 'ListTopics', Version: '2010-03-31' });
    expect(answer.status).toBe(200);
    expect(answer.xml).toContain('<ListTopicsResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">');
  });
});
