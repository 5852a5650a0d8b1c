/**
 * notificationMode eventbridge in the template: S3 sends the raw bucket's events to EventBridge, a rule on the
 * default bus picks the bucket's "Object Created" events with the announced suffixes and sends them to the ingest
 * queue, which only that rule may send to, with the DLQ for what EventBridge cannot deliver. Every synth runs cdk-nag.
 */
import { describe, expect, it } from '@jest/globals';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { logicalId, synth } from '../support/synth.ts';

const eventbridge = synth({ notificationMode: 'eventbridge' });
const direct = synth();

const arnOf = (synthesized: typeof eventbridge, construct: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [logicalId(synthesized.stack, construct), 'Arn'],
});

/** The statements of a queue's policy that have `principal` as a service principal. */
function statementsFor(synthesized: typeof eventbridge, queue: { node: { defaultChild?: unknown } }, principal: string): unknown[] {
  const queueId = logicalId(synthesized.stack, queue);
  const policies = Object.values(synthesized.template.findResources('AWS::SQS::QueuePolicy')).filter((policy) =>
    (policy.Properties.Queues as Array<{ Ref: string }>).some((ref) => ref.Ref === queueId),
  );
  expect(policies).toHaveLength(1);
  return (policies[0]!.Properties.PolicyDocument.Statement as Array<{ Principal?: { Service?: string } }>).filter(
    (statement) => statement.Principal?.Service === principal,
  );
}

describe('notificationMode eventbridge', () => {
  it('has a rule on the default bus for the raw bucket\'s "Object Created" events with each announced suffix', () => {
    const { stack, template } = eventbridge;
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.absent(),
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: [{ Ref: logicalId(stack, stack.storage.rawBucket) }] },
          object: { key: [{ suffix: '.jsonl' }, { suffix: '.jsonl.gz' }, { suffix: '.jsonl.zst' }] },
        },
      },
    });
  });

  it('filters on the suffixes configured', () => {
    synth({ notificationMode: 'eventbridge', suffixes: '.ndjson' }).template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ object: { key: [{ suffix: '.ndjson' }] } }) }),
    });
  });

  it('targets the ingest queue, with the DLQ for events EventBridge could not deliver', () => {
    const { stack, template } = eventbridge;
    const rule = stack.notifications.objectCreatedEvents[0]!.rule;
    expect(Object.values(template.findResources('AWS::Events::Rule'))[0]?.Properties.Targets).toEqual([
      { Id: 'Target0', Arn: arnOf(eventbridge, stack.queues.queue), DeadLetterConfig: { Arn: arnOf(eventbridge, stack.queues.deadLetterQueue) } },
    ]);
    expect(logicalId(stack, rule)).toBe(Object.keys(template.findResources('AWS::Events::Rule'))[0]);
  });

  it('lets that rule alone send to the ingest queue and the DLQ, and only sqs:SendMessage', () => {
    const { stack } = eventbridge;
    const rule = stack.notifications.objectCreatedEvents[0]!.rule;
    for (const queue of [stack.queues.queue, stack.queues.deadLetterQueue]) {
      expect(statementsFor(eventbridge, queue, 'events.amazonaws.com')).toEqual([
        {
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: arnOf(eventbridge, queue),
          Condition: { ArnEquals: { 'aws:SourceArn': arnOf(eventbridge, rule) } },
        },
      ]);
      expect(statementsFor(eventbridge, queue, 's3.amazonaws.com')).toEqual([]);
    }
  });

  it('turns on EventBridge on the raw bucket it creates, and writes no queue or Lambda notification to it', () => {
    const { stack, template } = eventbridge;
    // CDK sets EventBridgeConfiguration through its notifications custom resource: switching a deployed stack from
    // direct mode updates that one resource, so the bucket is never left without notifications in between.
    const notifications = Object.values(template.findResources('Custom::S3BucketNotifications'));
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Properties).toMatchObject({
      BucketName: { Ref: logicalId(stack, stack.storage.rawBucket) },
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    expect(Object.keys(notifications[0]?.Properties.NotificationConfiguration as object)).toEqual(['EventBridgeConfiguration']);
    expect(stack.notifications.trigger).toBeUndefined();
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  it('leaves direct mode as it was: S3 sends to the queue, no rule, no EventBridge', () => {
    direct.template.resourceCountIs('AWS::Events::Rule', 0);
    const notifications = Object.values(direct.template.findResources('Custom::S3BucketNotifications'));
    expect(notifications.map((resource) => Object.keys(resource.Properties.NotificationConfiguration as object))).toEqual([['QueueConfigurations']]);
    expect(statementsFor(direct, direct.stack.queues.queue, 'events.amazonaws.com')).toEqual([]);
  });

  it('synthesizes with no cdk-nag finding left and no warning', () => {
    // synth() throws on any unacknowledged finding; here the stack had to need no new acknowledgement.
    expect(Annotations.fromStack(eventbridge.stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(eventbridge.stack).findInfo('*', Match.anyValue())).toEqual([]);
  });
});
