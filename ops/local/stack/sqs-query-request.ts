/**
 * SQS's query protocol (form-encoded `Action=SendMessage&Version=2012-11-05&...`, spoken by the
 * AWS CLI v2.9 and other older clients) read into the JSON-protocol request that fauxqs handles:
 * which action, and the body SQS's JSON protocol carries for it. Pure: parameters in, request out.
 *
 * The parameter names follow SQS's 2012-11-05 query model: flattened lists as `AttributeName.1`,
 * `AttributeName.2`, ...; maps as `Attribute.1.Name` / `Attribute.1.Value`; message attributes as
 * `MessageAttribute.1.Name` / `MessageAttribute.1.Value.DataType` / `.StringValue` / `.BinaryValue`
 * (base64, as in the JSON protocol).
 */
import { SqsRequestError } from './sqs-protocol.ts';

export const SQS_QUERY_API_VERSION = '2012-11-05';

export type QueryParameters = Readonly<Record<string, string>>;

/** Reads one member of the JSON request from the query parameters; undefined when it is absent. */
type MemberReader = (parameters: QueryParameters) => unknown;

const text =
  (name: string): MemberReader =>
  (parameters) =>
    parameters[name];

const integer =
  (name: string): MemberReader =>
  (parameters) => {
    const value = parameters[name];
    if (value === undefined) return undefined;
    if (!/^-?\d{1,15}$/.test(value.trim())) {
      throw new SqsRequestError('InvalidParameterValue', `Value ${value} for parameter ${name} is invalid. Reason: Must be an integer.`);
    }
    return Number(value.trim());
  };

/** A flattened list: `name.1`, `name.2`, ... in index order. */
const list =
  (name: string): MemberReader =>
  (parameters) => {
    const items = [...indexes(parameters, name)].map((index) => parameters[`${name}.${index}`]).filter((item) => item !== undefined);
    return items.length === 0 ? undefined : items;
  };

/** A flattened map of strings: `prefix.N.<keyName>` and `prefix.N.Value`. */
const stringMap =
  (prefix: string, keyName: 'Name' | 'Key'): MemberReader =>
  (parameters) => {
    const map: Record<string, string> = {};
    for (const index of indexes(parameters, prefix)) {
      const key = required(parameters, `${prefix}.${index}.${keyName}`);
      map[key] = required(parameters, `${prefix}.${index}.Value`);
    }
    return Object.keys(map).length === 0 ? undefined : map;
  };

/** `prefix.N.Name` and `prefix.N.Value.{DataType,StringValue,BinaryValue,StringListValue.M,BinaryListValue.M}`. */
const messageAttributeMap =
  (prefix: string): MemberReader =>
  (parameters) => {
    const map: Record<string, Record<string, unknown>> = {};
    for (const index of indexes(parameters, prefix)) {
      const name = required(parameters, `${prefix}.${index}.Name`);
      const valuePrefix = `${prefix}.${index}.Value`;
      const value: Record<string, unknown> = { DataType: required(parameters, `${valuePrefix}.DataType`) };
      for (const member of ['StringValue', 'BinaryValue'] as const) {
        const memberValue = parameters[`${valuePrefix}.${member}`];
        if (memberValue !== undefined) value[member] = memberValue;
      }
      for (const [member, jsonMember] of [
        ['StringListValue', 'StringListValues'],
        ['BinaryListValue', 'BinaryListValues'],
      ] as const) {
        const values = list(`${valuePrefix}.${member}`)(parameters);
        if (values !== undefined) value[jsonMember] = values;
      }
      map[name] = value;
    }
    return Object.keys(map).length === 0 ? undefined : map;
  };

/** The actions the local stack translates, each JSON member with the reader of its query parameters. */
const ACTIONS = {
  GetQueueUrl: { QueueName: text('QueueName'), QueueOwnerAWSAccountId: text('QueueOwnerAWSAccountId') },
  ListQueues: { QueueNamePrefix: text('QueueNamePrefix'), NextToken: text('NextToken'), MaxResults: integer('MaxResults') },
  GetQueueAttributes: { QueueUrl: text('QueueUrl'), AttributeNames: list('AttributeName') },
  SetQueueAttributes: { QueueUrl: text('QueueUrl'), Attributes: stringMap('Attribute', 'Name') },
  CreateQueue: { QueueName: text('QueueName'), Attributes: stringMap('Attribute', 'Name'), tags: stringMap('Tag', 'Key') },
  DeleteQueue: { QueueUrl: text('QueueUrl') },
  PurgeQueue: { QueueUrl: text('QueueUrl') },
  SendMessage: {
    QueueUrl: text('QueueUrl'),
    MessageBody: text('MessageBody'),
    DelaySeconds: integer('DelaySeconds'),
    MessageAttributes: messageAttributeMap('MessageAttribute'),
    MessageSystemAttributes: messageAttributeMap('MessageSystemAttribute'),
    MessageDeduplicationId: text('MessageDeduplicationId'),
    MessageGroupId: text('MessageGroupId'),
  },
  ReceiveMessage: {
    QueueUrl: text('QueueUrl'),
    AttributeNames: list('AttributeName'),
    MessageSystemAttributeNames: list('MessageSystemAttributeName'),
    MessageAttributeNames: list('MessageAttributeName'),
    MaxNumberOfMessages: integer('MaxNumberOfMessages'),
    VisibilityTimeout: integer('VisibilityTimeout'),
    WaitTimeSeconds: integer('WaitTimeSeconds'),
    ReceiveRequestAttemptId: text('ReceiveRequestAttemptId'),
  },
  DeleteMessage: { QueueUrl: text('QueueUrl'), ReceiptHandle: text('ReceiptHandle') },
  ChangeMessageVisibility: { QueueUrl: text('QueueUrl'), ReceiptHandle: text('ReceiptHandle'), VisibilityTimeout: integer('VisibilityTimeout') },
} as const satisfies Readonly<Record<string, Readonly<Record<string, MemberReader>>>>;

export type SqsQueryAction = keyof typeof ACTIONS;

export const SQS_QUERY_ACTIONS = Object.keys(ACTIONS) as readonly SqsQueryAction[];

/** SQS actions that exist but that the local stack does not translate from the query protocol. */
const UNTRANSLATED_SQS_ACTIONS = new Set([
  'AddPermission',
  'CancelMessageMoveTask',
  'ChangeMessageVisibilityBatch',
  'DeleteMessageBatch',
  'ListDeadLetterSourceQueues',
  'ListMessageMoveTasks',
  'ListQueueTags',
  'RemovePermission',
  'SendMessageBatch',
  'StartMessageMoveTask',
  'TagQueue',
  'UntagQueue',
]);

export interface SqsJsonRequest {
  readonly action: SqsQueryAction;
  /** The JSON protocol's request body (members absent from the query left out). */
  readonly body: Record<string, unknown>;
}

/**
 * The JSON-protocol request for a query-protocol one. `queueUrlFromPath` stands in for a missing
 * `QueueUrl`: older clients post to the queue's URL instead of naming it in a parameter.
 * Throws SqsRequestError with the error SQS answers (InvalidAction, InvalidParameterValue, MissingParameter).
 */
export function sqsJsonRequestOf(parameters: QueryParameters, queueUrlFromPath?: string): SqsJsonRequest {
  const action = parameters['Action'];
  if (action === undefined || action === '') {
    throw new SqsRequestError('MissingAction', 'The request must contain the parameter Action.');
  }
  if (!isTranslated(action)) {
    const why = UNTRANSLATED_SQS_ACTIONS.has(action)
      ? `The local stack does not translate ${action} from SQS's query protocol (it does: ${SQS_QUERY_ACTIONS.join(', ')}); ` +
        "call it through a client that speaks SQS's JSON protocol (the AWS SDKs, a newer AWS CLI)."
      : `The action ${action} is not valid for this endpoint.`;
    throw new SqsRequestError('InvalidAction', why);
  }
  const body: Record<string, unknown> = {};
  for (const [member, read] of Object.entries<MemberReader>(ACTIONS[action])) {
    const value = read(parameters);
    if (value !== undefined) body[member] = value;
  }
  if ('QueueUrl' in ACTIONS[action] && body['QueueUrl'] === undefined && queueUrlFromPath !== undefined) {
    body['QueueUrl'] = queueUrlFromPath;
  }
  return { action, body };
}

function isTranslated(action: string): action is SqsQueryAction {
  return Object.hasOwn(ACTIONS, action);
}

/** The N of every `prefix.N` or `prefix.N.<anything>` parameter, in ascending order. */
function indexes(parameters: QueryParameters, prefix: string): number[] {
  const found = new Set<number>();
  const start = `${prefix}.`;
  for (const name of Object.keys(parameters)) {
    if (!name.startsWith(start)) continue;
    const match = /^(\d+)(?:\.|$)/.exec(name.slice(start.length));
    if (match?.[1] !== undefined) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b);
}

function required(parameters: QueryParameters, name: string): string {
  const value = parameters[name];
  if (value === undefined) throw new SqsRequestError('MissingParameter', `The request must contain the parameter ${name}.`);
  return value;
}
