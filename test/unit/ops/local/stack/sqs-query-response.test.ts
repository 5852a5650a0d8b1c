import { describe, expect, it } from '@jest/globals';
import { renderSqsQueryError, renderSqsQueryResponse, sqsQueryErrorOf } from '../../../../../ops/local/stack/sqs-query-response.ts';

const NS = 'xmlns="http://queue.amazonaws.com/doc/2012-11-05/"';
const METADATA = '<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>';

describe("a JSON-protocol answer written as SQS's query protocol answers", () => {
  it('wraps a result in <ActionResult> next to the request id, in SQS namespace', () => {
    expect(renderSqsQueryResponse('GetQueueUrl', { QueueUrl: 'http://q/000000000000/a' }, 'req-1')).toBe(
      `<?xml version="1.0"?><GetQueueUrlResponse ${NS}><GetQueueUrlResult><QueueUrl>http://q/000000000000/a</QueueUrl></GetQueueUrlResult>${METADATA}</GetQueueUrlResponse>`,
    );
  });

  it('answers the actions without data with the request id alone', () => {
    for (const action of ['DeleteMessage', 'PurgeQueue', 'ChangeMessageVisibility'] as const) {
      expect(renderSqsQueryResponse(action, {}, 'req-1')).toBe(`<?xml version="1.0"?><${action}Response ${NS}>${METADATA}</${action}Response>`);
    }
  });

  it('flattens the queue list, with NextToken only when there is one', () => {
    expect(renderSqsQueryResponse('ListQueues', { QueueUrls: ['u1', 'u2'] }, 'req-1')).toBe(
      `<?xml version="1.0"?><ListQueuesResponse ${NS}><ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>${METADATA}</ListQueuesResponse>`,
    );
    expect(renderSqsQueryResponse('ListQueues', { QueueUrls: ['u1'], NextToken: 't' }, 'req-1')).toContain('<QueueUrl>u1</QueueUrl><NextToken>t</NextToken>');
  });

  it('writes queue attributes as Attribute Name/Value pairs', () => {
    const xml = renderSqsQueryResponse('GetQueueAttributes', { Attributes: { ApproximateNumberOfMessages: '4', QueueArn: 'arn:q' } }, 'req-1');
    expect(xml).toContain(
      '<GetQueueAttributesResult><Attribute><Name>ApproximateNumberOfMessages</Name><Value>4</Value></Attribute>' +
        '<Attribute><Name>QueueArn</Name><Value>arn:q</Value></Attribute></GetQueueAttributesResult>',
    );
  });

  it('writes SendMessage digests and id, leaving out what the answer does not carry', () => {
    const xml = renderSqsQueryResponse('SendMessage', { MessageId: 'm-1', MD5OfMessageBody: 'b0dy', MD5OfMessageAttributes: 'a77r' }, 'req-1');
    expect(xml).toContain(
      '<SendMessageResult><MD5OfMessageBody>b0dy</MD5OfMessageBody><MD5OfMessageAttributes>a77r</MD5OfMessageAttributes><MessageId>m-1</MessageId></SendMessageResult>',
    );
  });

  it('writes received messages with system attributes and message attributes, the body escaped so that it parses back as sent', () => {
    const answer = {
      Messages: [
        {
          MessageId: 'm-1',
          ReceiptHandle: 'h-1',
          MD5OfBody: 'md5',
          Body: `a<b>&"'\r\nz`,
          Attributes: { ApproximateReceiveCount: '2' },
          MD5OfMessageAttributes: 'amd5',
          MessageAttributes: { reason: { DataType: 'String', StringValue: 'x<y' }, blob: { DataType: 'Binary', BinaryValue: 'AAEC' } },
        },
      ],
    };
    expect(renderSqsQueryResponse('ReceiveMessage', answer, 'req-1')).toBe(
      `<?xml version="1.0"?><ReceiveMessageResponse ${NS}><ReceiveMessageResult><Message>` +
        '<MessageId>m-1</MessageId><ReceiptHandle>h-1</ReceiptHandle><MD5OfBody>md5</MD5OfBody>' +
        '<Body>a&lt;b&gt;&amp;&quot;&apos;&#xD;\nz</Body>' +
        '<Attribute><Name>ApproximateReceiveCount</Name><Value>2</Value></Attribute>' +
        '<MD5OfMessageAttributes>amd5</MD5OfMessageAttributes>' +
        '<MessageAttribute><Name>reason</Name><Value><StringValue>x&lt;y</StringValue><DataType>String</DataType></Value></MessageAttribute>' +
        '<MessageAttribute><Name>blob</Name><Value><BinaryValue>AAEC</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute>' +
        `</Message></ReceiveMessageResult>${METADATA}</ReceiveMessageResponse>`,
    );
  });

  it('answers an empty receive with an empty result', () => {
    expect(renderSqsQueryResponse('ReceiveMessage', {}, 'req-1')).toContain('<ReceiveMessageResult></ReceiveMessageResult>');
  });
});

describe("a JSON-protocol error written as SQS's query protocol answers it", () => {
  it('renders the ErrorResponse shape: Type, Code, Message, Detail, then RequestId', () => {
    expect(renderSqsQueryError({ type: 'Sender', code: 'InvalidParameterValue', message: 'Value <x> is bad' }, 'req-1')).toBe(
      `<?xml version="1.0"?><ErrorResponse ${NS}><Error><Type>Sender</Type><Code>InvalidParameterValue</Code>` +
        '<Message>Value &lt;x&gt; is bad</Message><Detail/></Error><RequestId>req-1</RequestId></ErrorResponse>',
    );
  });

  it("takes the code and fault from x-amzn-query-error, with the query protocol's wording for a missing queue", () => {
    const answer = { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' };
    expect(sqsQueryErrorOf(400, 'AWS.SimpleQueueService.NonExistentQueue;Sender', answer)).toEqual({
      type: 'Sender',
      code: 'AWS.SimpleQueueService.NonExistentQueue',
      message: 'The specified queue does not exist for this wsdl version.',
    });
    expect(sqsQueryErrorOf(400, 'InvalidParameterValue;Sender', { message: 'Number of message attributes [11] exceeds the allowed maximum [10].' })).toEqual({
      type: 'Sender',
      code: 'InvalidParameterValue',
      message: 'Number of message attributes [11] exceeds the allowed maximum [10].',
    });
  });

  it('falls back to __type without the header, and to a Receiver fault for a crash', () => {
    expect(sqsQueryErrorOf(400, undefined, { __type: 'com.amazonaws.sqs#InvalidAction', message: 'Unknown action' })).toEqual({
      type: 'Sender',
      code: 'InvalidAction',
      message: 'Unknown action',
    });
    expect(sqsQueryErrorOf(500, undefined, { statusCode: 500, error: 'Internal Server Error', message: 'boom' })).toEqual({
      type: 'Receiver',
      code: 'InternalError',
      message: 'boom',
    });
  });
});
