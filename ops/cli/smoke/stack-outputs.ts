/**
 * The deployed stack's outputs (infra/ingest-stack.ts) as the CLI's settings, read from a file: the JSON
 * that `npx cdk deploy --outputs-file FILE` writes, or what `aws cloudformation describe-stacks` prints.
 * Parsing is pure; a missing stack or output is a UsageError that says which.
 */
import { readFile } from 'node:fs/promises';
import type { Environment } from '../context.ts';
import { UsageError } from '../exit-codes.ts';

/** The outputs the smoke test reads, by their CfnOutput ids. */
export const STACK_OUTPUTS = {
  rawBucket: 'RawBucketName',
  processedBucket: 'ProcessedBucketName',
  queueUrl: 'QueueUrl',
  dlqUrl: 'DeadLetterQueueUrl',
  alarmTopicArn: 'AlarmTopicArn',
  /** Not in the stack yet (see the README's smoke paragraph); used when present. */
  alarmName: 'DeadLetterQueueAlarmName',
} as const;

/** The stack `npx cdk deploy` creates unless -c stackName=… says otherwise (infra/build-app.ts). */
export const DEFAULT_STACK_NAME = 'IotIngest';

export interface StackOutputs {
  readonly stackName: string;
  readonly values: Readonly<Record<string, string>>;
}

type Candidates = Map<string, Record<string, string>>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** describe-stacks: {"Stacks":[{"StackName":…,"Outputs":[{"OutputKey":…,"OutputValue":…}]}]}. */
function fromDescribeStacks(stacks: unknown[]): Candidates {
  const found: Candidates = new Map();
  for (const stack of stacks) {
    if (!isRecord(stack) || typeof stack['StackName'] !== 'string') continue;
    const values: Record<string, string> = {};
    for (const output of Array.isArray(stack['Outputs']) ? stack['Outputs'] : []) {
      if (isRecord(output) && typeof output['OutputKey'] === 'string' && typeof output['OutputValue'] === 'string') values[output['OutputKey']] = output['OutputValue'];
    }
    found.set(stack['StackName'], values);
  }
  return found;
}

/** cdk deploy --outputs-file: {"StackName":{"OutputKey":"value",…},…}. */
function fromCdkOutputs(document: Record<string, unknown>): Candidates {
  const found: Candidates = new Map();
  for (const [stackName, outputs] of Object.entries(document)) {
    if (!isRecord(outputs)) continue;
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(outputs)) if (typeof value === 'string') values[key] = value;
    found.set(stackName, values);
  }
  return found;
}

/** The stack's outputs from either format; `stack` picks one when the file holds several. */
export function parseStackOutputs(text: string, stack: string | undefined, where: string): StackOutputs {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new UsageError(`${where} is not JSON: give the file \`npx cdk deploy --outputs-file FILE\` wrote`);
  }
  if (!isRecord(document)) throw new UsageError(`${where} is not a JSON object of stack outputs`);
  const candidates = Array.isArray(document['Stacks']) ? fromDescribeStacks(document['Stacks']) : fromCdkOutputs(document);
  const names = [...candidates.keys()];
  const chosen = stack ?? (names.length === 1 ? names[0] : names.includes(DEFAULT_STACK_NAME) ? DEFAULT_STACK_NAME : undefined);
  const values = chosen === undefined ? undefined : candidates.get(chosen);
  if (chosen === undefined || values === undefined) {
    const listed = names.length === 0 ? 'no stack' : `the stacks ${names.join(', ')}`;
    throw new UsageError(`${where} holds ${listed}${stack === undefined ? ': pass --stack NAME' : `, not ${stack}`}`);
  }
  return { stackName: chosen, values };
}

export async function readStackOutputs(path: string, stack: string | undefined): Promise<StackOutputs> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new UsageError(`cannot read --outputs-file ${path}: ${typeof code === 'string' ? code : String(error)}`);
  }
  return parseStackOutputs(text, stack, path);
}

const SQS_URL_REGION = /^https:\/\/(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?)\//;

/** us-east-1 from https://sqs.us-east-1.amazonaws.com/123456789012/name; undefined for other URLs. */
export function regionOfQueueUrl(url: string): string | undefined {
  const match = SQS_URL_REGION.exec(url);
  return match?.[1] ?? match?.[2];
}

/**
 * The outputs as the worker's variables, laid over the environment: the file names the stack the
 * operator chose, so it wins over variables (flags still win over both). The region comes from the
 * queue URL, where the queue is.
 */
export function environmentWithOutputs(env: Environment, outputs: StackOutputs, where: string): Environment {
  const { values } = outputs;
  const required = [STACK_OUTPUTS.rawBucket, STACK_OUTPUTS.processedBucket, STACK_OUTPUTS.queueUrl, STACK_OUTPUTS.dlqUrl];
  const missing = required.filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new UsageError(`${where}: the stack ${outputs.stackName} has no output ${missing.join(', ')}`);
  const queueUrl = values[STACK_OUTPUTS.queueUrl] ?? '';
  const region = regionOfQueueUrl(queueUrl);
  return {
    ...env,
    RAW_BUCKET: values[STACK_OUTPUTS.rawBucket],
    PROCESSED_BUCKET: values[STACK_OUTPUTS.processedBucket],
    QUEUE_URL: queueUrl,
    DLQ_URL: values[STACK_OUTPUTS.dlqUrl],
    ...(region === undefined ? {} : { AWS_REGION: region }),
  };
}
