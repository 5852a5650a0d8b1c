import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface ObjectCreatedEventsProps {
  readonly bucket: s3.IBucket;
  /** The source prefixes in the bucket; [''] for the whole bucket. */
  readonly prefixes: readonly string[];
  readonly queue: sqs.IQueue;
  /** Where EventBridge puts an event it could not deliver to the queue after its retries; the worker reads it after a redrive. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly suffixes: readonly string[];
}

/** A literal in an EventBridge wildcard pattern: * and \ stand for themselves. */
function wildcardLiteral(text: string): string {
  return text.replace(/[\\*]/g, (character) => `\\${character}`);
}

/**
 * The object keys announced: the suffixes anywhere in the bucket, or with prefixes the keys that start with one and
 * end with a suffix, which only a wildcard pattern matches (a prefix and a suffix matcher on one field are an OR).
 */
export function announcedKeys(prefixes: readonly string[], suffixes: readonly string[]): string[] {
  if (prefixes.length === 1 && prefixes[0] === '') return events.Match.anyOf(...suffixes.map((suffix) => events.Match.suffix(suffix)));
  return events.Match.anyOf(
    ...prefixes.flatMap((prefix) => suffixes.map((suffix) => events.Match.wildcard(`${wildcardLiteral(prefix)}*${wildcardLiteral(suffix)}`))),
  );
}

/** The queue policy statement that lets the rule, and only the rule, send to a queue. */
function sendFromRule(queue: sqs.IQueue, rule: events.IRuleRef): iam.PolicyStatement {
  return new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('events.amazonaws.com')],
    actions: ['sqs:SendMessage'],
    resources: [queue.queueArn],
    // The rule's ARN names the account and region: no other rule, in this account or another, may send.
    conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
  });
}

/**
 * The ingest queue as the rule's target, as aws-events-targets' SqsQueue does it with a deadLetterQueue, but the
 * queue policy allows the events service sqs:SendMessage only: SqsQueue grants GetQueueAttributes and GetQueueUrl
 * too, which EventBridge does not use. A customer queue key lets EventBridge use it in its key policy (encryption.ts).
 */
class IngestQueueTarget implements events.IRuleTarget {
  private readonly queue: sqs.IQueue;
  private readonly deadLetterQueue: sqs.IQueue;

  constructor(queue: sqs.IQueue, deadLetterQueue: sqs.IQueue) {
    this.queue = queue;
    this.deadLetterQueue = deadLetterQueue;
  }

  bind(rule: events.IRuleRef): events.RuleTargetConfig {
    this.queue.addToResourcePolicy(sendFromRule(this.queue, rule));
    this.deadLetterQueue.addToResourcePolicy(sendFromRule(this.deadLetterQueue, rule));
    return { arn: this.queue.queueArn, deadLetterConfig: { arn: this.deadLetterQueue.queueArn }, targetResource: this.queue };
  }
}

/**
 * S3's "Object Created" events of a source bucket on the account's default event bus, filtered on the announced keys
 * (source prefixes and suffixes), to the ingest queue. The worker reads the EventBridge event as it comes (worker/common/events.ts).
 * S3 sends them only from a bucket with EventBridge notifications on (storage.ts for a bucket the stack creates;
 * the bucket's owner for an existing one).
 */
export class ObjectCreatedEvents extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ObjectCreatedEventsProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'New raw objects to the ingest queue',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [props.bucket.bucketName] },
          object: { key: announcedKeys(props.prefixes, props.suffixes) },
        },
      },
    });
    this.rule.addTarget(new IngestQueueTarget(props.queue, props.deadLetterQueue));
  }
}
