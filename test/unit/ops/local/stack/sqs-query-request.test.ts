import { describe, expect, it } from '@jest/globals';
import { SqsRequestError } from '../../../../../ops/local/stack/sqs-protocol.ts';
import { sqsJsonRequestOf, type QueryParameters } from '../../../../../ops/local/stack/sqs-query-request.ts';

/** A form body as fauxqs's parser hands it over: one string per parameter name. */
function form(body: string): QueryParameters {
  return Object.fromEntries(new URLSearchParams(body));
}

const QUEUE_URL = 'http://sqs.us-east-1.localhost:4566/000000000000/ingest';
const ENCODED_QUEUE_URL = encodeURIComponent(QUEUE_URL);

function refusalOf(parameters: QueryParameters): SqsRequestError {
  try {
    sqsJsonRequestOf(parameters);
  } catch (error) {
    if (error instanceof SqsRequestError) return error;
    throw error;
  }
  throw new Error('the request was translated, but SQS refuses it');
}

describe('an SQS query-protocol request read into its JSON-protocol form', () => {
  it('reads SendMessage with message attributes exactly as the AWS CLI v2.9 sends it', () => {
    // Prepare: the body `aws sqs send-message --message-attributes ...` posted (captured from /usr/bin/aws 2.9.19).
    const body =
      `Action=SendMessage&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}&MessageBody=hi+there%0D%0A&` +
      'MessageAttribute.1.Name=reason&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=v&' +
      'MessageAttribute.2.Name=blob&MessageAttribute.2.Value.DataType=Binary&MessageAttribute.2.Value.BinaryValue=AAEC&DelaySeconds=0';

    // Act
    const request = sqsJsonRequestOf(form(body));

    // Assess
    expect(request).toEqual({
      action: 'SendMessage',
      body: {
        QueueUrl: QUEUE_URL,
        MessageBody: 'hi there\r\n',
        DelaySeconds: 0,
        MessageAttributes: {
          reason: { DataType: 'String', StringValue: 'v' },
          blob: { DataType: 'Binary', BinaryValue: 'AAEC' },
        },
      },
    });
  });

  it('reads ReceiveMessage lists and integers as the CLI sends them', () => {
    const body =
      `Action=ReceiveMessage&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}&AttributeName.1=All&MessageAttributeName.1=All&` +
      'MaxNumberOfMessages=2&VisibilityTimeout=3&WaitTimeSeconds=1';
    expect(sqsJsonRequestOf(form(body))).toEqual({
      action: 'ReceiveMessage',
      body: {
        QueueUrl: QUEUE_URL,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        MaxNumberOfMessages: 2,
        VisibilityTimeout: 3,
        WaitTimeSeconds: 1,
      },
    });
  });

  it('keeps a flattened list in index order, 10 after 2, whatever order the parameters come in', () => {
    const parameters = form(
      `Action=GetQueueAttributes&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}&AttributeName.10=QueueArn&AttributeName.2=VisibilityTimeout&AttributeName.1=ApproximateNumberOfMessages`,
    );
    expect(sqsJsonRequestOf(parameters).body['AttributeNames']).toEqual(['ApproximateNumberOfMessages', 'VisibilityTimeout', 'QueueArn']);
  });

  it('reads every other call an operator makes', () => {
    expect(sqsJsonRequestOf(form('Action=GetQueueUrl&Version=2012-11-05&QueueName=ingest'))).toEqual({
      action: 'GetQueueUrl',
      body: { QueueName: 'ingest' },
    });
    expect(sqsJsonRequestOf(form('Action=ListQueues&Version=2012-11-05&QueueNamePrefix=in&MaxResults=5'))).toEqual({
      action: 'ListQueues',
      body: { QueueNamePrefix: 'in', MaxResults: 5 },
    });
    expect(sqsJsonRequestOf(form(`Action=DeleteMessage&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}&ReceiptHandle=h%2B1`))).toEqual({
      action: 'DeleteMessage',
      body: { QueueUrl: QUEUE_URL, ReceiptHandle: 'h+1' },
    });
    expect(sqsJsonRequestOf(form(`Action=PurgeQueue&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}`))).toEqual({
      action: 'PurgeQueue',
      body: { QueueUrl: QUEUE_URL },
    });
    expect(
      sqsJsonRequestOf(form(`Action=ChangeMessageVisibility&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}&ReceiptHandle=h&VisibilityTimeout=0`)),
    ).toEqual({ action: 'ChangeMessageVisibility', body: { QueueUrl: QUEUE_URL, ReceiptHandle: 'h', VisibilityTimeout: 0 } });
  });

  it('reads queue attributes and tags of CreateQueue as maps', () => {
    const body =
      'Action=CreateQueue&Version=2012-11-05&QueueName=ingest&Attribute.1.Name=VisibilityTimeout&Attribute.1.Value=30&' +
      'Attribute.2.Name=RedrivePolicy&Attribute.2.Value=%7B%22maxReceiveCount%22%3A5%7D&Tag.1.Key=team&Tag.1.Value=iot';
    expect(sqsJsonRequestOf(form(body))).toEqual({
      action: 'CreateQueue',
      body: { QueueName: 'ingest', Attributes: { VisibilityTimeout: '30', RedrivePolicy: '{"maxReceiveCount":5}' }, tags: { team: 'iot' } },
    });
  });

  it("takes the queue from the request's path when QueueUrl is missing, as older clients address it", () => {
    const fromPath = 'http://127.0.0.1:4566/000000000000/other';
    expect(sqsJsonRequestOf(form('Action=PurgeQueue&Version=2012-11-05'), fromPath).body).toEqual({ QueueUrl: fromPath });
    expect(sqsJsonRequestOf(form(`Action=PurgeQueue&Version=2012-11-05&QueueUrl=${ENCODED_QUEUE_URL}`), fromPath).body).toEqual({
      QueueUrl: QUEUE_URL,
    });
    expect(sqsJsonRequestOf(form('Action=GetQueueUrl&Version=2012-11-05&QueueName=q'), fromPath).body).toEqual({ QueueName: 'q' });
  });

  it('refuses what SQS refuses, with its error codes', () => {
    expect(refusalOf(form(`Action=ReceiveMessage&QueueUrl=${ENCODED_QUEUE_URL}&MaxNumberOfMessages=ten`))).toMatchObject({
      code: 'InvalidParameterValue',
      message: 'Value ten for parameter MaxNumberOfMessages is invalid. Reason: Must be an integer.',
      statusCode: 400,
    });
    expect(refusalOf(form(`Action=SendMessage&QueueUrl=${ENCODED_QUEUE_URL}&MessageBody=b&MessageAttribute.1.Value.DataType=String`))).toMatchObject({
      code: 'MissingParameter',
      message: 'The request must contain the parameter MessageAttribute.1.Name.',
    });
    expect(refusalOf(form('Version=2012-11-05'))).toMatchObject({ code: 'MissingAction' });
    expect(refusalOf(form('Action=Frobnicate'))).toMatchObject({
      code: 'InvalidAction',
      message: 'The action Frobnicate is not valid for this endpoint.',
    });
  });

  it('names the way out for an SQS action it does not translate', () => {
    const refusal = refusalOf(form('Action=SendMessageBatch&Version=2012-11-05'));
    expect(refusal.code).toBe('InvalidAction');
    expect(refusal.message).toContain('does not translate SendMessageBatch');
    expect(refusal.message).toContain('JSON protocol');
  });
});
