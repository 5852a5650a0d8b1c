/**
 * fauxqs's JSON-protocol answers written as SQS answers its query protocol: `<ActionResponse>` in
 * SQS's namespace holding `<ActionResult>` (for actions that return data) and
 * `<ResponseMetadata><RequestId>`, or `<ErrorResponse>` with the error's Type, Code and Message.
 * The element names and flattened lists/maps follow SQS's 2012-11-05 query model. Pure: values in, XML out.
 */
import { isJsonObject } from '../../../worker/common/json-object.ts';
import type { SqsQueryAction } from './sqs-query-request.ts';
import { xmlElement, xmlTextElement } from './xml-text.ts';

export const SQS_QUERY_NAMESPACE = 'http://queue.amazonaws.com/doc/2012-11-05/';

type JsonAnswer = Readonly<Record<string, unknown>>;

/** The inside of `<ActionResult>`; absent for the actions whose answer carries nothing but the request id. */
type ResultRenderer = (answer: JsonAnswer) => string;

const RESULT_RENDERERS: Readonly<Partial<Record<SqsQueryAction, ResultRenderer>>> = {
  GetQueueUrl: (answer) => xmlTextElement('QueueUrl', stringOf(answer['QueueUrl'])),
  CreateQueue: (answer) => xmlTextElement('QueueUrl', stringOf(answer['QueueUrl'])),
  ListQueues: (answer) =>
    stringsOf(answer['QueueUrls'])
      .map((url) => xmlTextElement('QueueUrl', url))
      .join('') + xmlTextElement('NextToken', stringOf(answer['NextToken'])),
  GetQueueAttributes: (answer) => nameValueElements('Attribute', answer['Attributes']),
  SendMessage: (answer) =>
    ['MD5OfMessageBody', 'MD5OfMessageAttributes', 'MD5OfMessageSystemAttributes', 'MessageId', 'SequenceNumber']
      .map((member) => xmlTextElement(member, stringOf(answer[member])))
      .join(''),
  ReceiveMessage: (answer) => (Array.isArray(answer['Messages']) ? answer['Messages'] : []).filter(isJsonObject).map(messageElement).join(''),
};

/** The XML SQS answers a successful `action` with. */
export function renderSqsQueryResponse(action: SqsQueryAction, answer: JsonAnswer, requestId: string): string {
  const render = RESULT_RENDERERS[action];
  const result = render === undefined ? '' : xmlElement(`${action}Result`, render(answer));
  const metadata = xmlElement('ResponseMetadata', xmlTextElement('RequestId', requestId));
  return `<?xml version="1.0"?><${action}Response xmlns="${SQS_QUERY_NAMESPACE}">${result}${metadata}</${action}Response>`;
}

export interface SqsQueryError {
  /** Sender (the caller's fault) or Receiver (the service's). */
  readonly type: 'Sender' | 'Receiver';
  /** The query protocol's code, e.g. `AWS.SimpleQueueService.NonExistentQueue` or `InvalidParameterValue`. */
  readonly code: string;
  readonly message: string;
}

export function renderSqsQueryError(error: SqsQueryError, requestId: string): string {
  const details = xmlTextElement('Type', error.type) + xmlTextElement('Code', error.code) + xmlTextElement('Message', error.message) + '<Detail/>';
  return `<?xml version="1.0"?><ErrorResponse xmlns="${SQS_QUERY_NAMESPACE}">${xmlElement('Error', details)}${xmlTextElement('RequestId', requestId)}</ErrorResponse>`;
}

/** The query protocol's wording where it differs from the JSON protocol's, as SQS answers it. */
const QUERY_MESSAGES: Readonly<Record<string, string>> = {
  'AWS.SimpleQueueService.NonExistentQueue': 'The specified queue does not exist for this wsdl version.',
};

/**
 * The query-protocol error for a JSON-protocol error answer. SQS's JSON answer names it twice: the
 * `x-amzn-query-error` header (`<query code>;<Sender|Receiver>`, which is exactly the query
 * protocol's code) and `__type` (`com.amazonaws.sqs#QueueDoesNotExist`); anything else (a crash
 * answered by Fastify) is the service's fault.
 */
export function sqsQueryErrorOf(statusCode: number, queryErrorHeader: string | undefined, answer: JsonAnswer | undefined): SqsQueryError {
  const faultOfStatus = statusCode >= 500 ? 'Receiver' : 'Sender';
  const jsonMessage = stringOf(answer?.['message']) ?? stringOf(answer?.['Message']);
  const [headerCode, headerFault] = (queryErrorHeader ?? '').split(';');
  if (headerCode) {
    return {
      type: headerFault === 'Receiver' ? 'Receiver' : headerFault === 'Sender' ? 'Sender' : faultOfStatus,
      code: headerCode,
      message: QUERY_MESSAGES[headerCode] ?? jsonMessage ?? headerCode,
    };
  }
  const type = stringOf(answer?.['__type']);
  if (type !== undefined) {
    const code = type.slice(type.lastIndexOf('#') + 1);
    return { type: faultOfStatus, code, message: jsonMessage ?? code };
  }
  return {
    type: 'Receiver',
    code: statusCode >= 500 ? 'InternalError' : 'InvalidRequest',
    message: jsonMessage ?? `The local stack answered HTTP ${statusCode}`,
  };
}

function messageElement(message: JsonAnswer): string {
  const parts = [
    xmlTextElement('MessageId', stringOf(message['MessageId'])),
    xmlTextElement('ReceiptHandle', stringOf(message['ReceiptHandle'])),
    xmlTextElement('MD5OfBody', stringOf(message['MD5OfBody'])),
    xmlTextElement('Body', stringOf(message['Body'])),
    nameValueElements('Attribute', message['Attributes']),
    xmlTextElement('MD5OfMessageAttributes', stringOf(message['MD5OfMessageAttributes'])),
    messageAttributeElements(message['MessageAttributes']),
  ];
  return xmlElement('Message', parts.join(''));
}

/** A flattened map of strings: `<name><Name>k</Name><Value>v</Value></name>` per entry. */
function nameValueElements(name: string, map: unknown): string {
  if (!isJsonObject(map)) return '';
  return Object.entries(map)
    .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
    .map(([key, value]) => xmlElement(name, xmlTextElement('Name', key) + xmlTextElement('Value', value)))
    .join('');
}

function messageAttributeElements(map: unknown): string {
  if (!isJsonObject(map)) return '';
  return Object.entries(map)
    .filter((entry): entry is [string, Record<string, unknown>] => isJsonObject(entry[1]))
    .map(([key, value]) => {
      const valueParts = [
        xmlTextElement('StringValue', stringOf(value['StringValue'])),
        xmlTextElement('BinaryValue', stringOf(value['BinaryValue'])),
        ...stringsOf(value['StringListValues']).map((item) => xmlTextElement('StringListValue', item)),
        ...stringsOf(value['BinaryListValues']).map((item) => xmlTextElement('BinaryListValue', item)),
        xmlTextElement('DataType', stringOf(value['DataType'])),
      ];
      return xmlElement('MessageAttribute', xmlTextElement('Name', key) + xmlElement('Value', valueParts.join('')));
    })
    .join('');
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

