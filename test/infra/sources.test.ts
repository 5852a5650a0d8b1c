/**
 * Several sources feeding one queue: prefixes of the stack's raw bucket and another bucket of the account. Each gets
 * its notifications (S3 filter rules per prefix and suffix on the bucket the stack creates, an EventBridge rule per
 * other bucket), the worker and reconcile roles get exactly the sources' objects and listings, and both tasks get
 * the sources in SOURCES. Every synth runs cdk-nag.
 */
import { describe, expect, it } from '@jest/globals';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { readableValue } from '../../infra/cross-account.ts';
import { logicalId, synth } from '../support/synth.ts';

const SUFFIXES = ['.jsonl', '.jsonl.gz', '.jsonl.zst'];
const PARTNER = 'acme-partner-drop';
const PARTNER_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${PARTNER}`]] };

const sources = [
  { prefix: 'fleet-a/', outputPrefix: 'a/' },
  { prefix: 'fleet-b/' },
  { bucket: PARTNER, prefix: 'in/', outputPrefix: 'partner/' },
];
const several = synth({ sources: JSON.stringify(sources) });
const moved = synth({ sources, sourceAfterSuccess: 'move' });

type Synth = typeof several;

const rawArn = ({ stack }: Synth, suffix = '') =>
  suffix === '' ? { 'Fn::GetAtt': [logicalId(stack, stack.storage.rawBucket), 'Arn'] } : { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack, stack.storage.rawBucket), 'Arn'] }, suffix]] };
const partnerObjects = (suffix: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${PARTNER}/${suffix}`]] });

/** The same resources in any order (CDK sorts a statement's resources). */
function expectSameResources(actual: unknown, expected: unknown[]): void {
  expect(actual).toHaveLength(expected.length);
  expect(actual).toEqual(expect.arrayContaining(expected));
}

/** The statements of the policy attached to a role, by Sid. */
function statementsOf({ stack, template }: Synth, role: { node: { defaultChild?: unknown } }): Record<string, Record<string, unknown>> {
  const roleId = logicalId(stack, role);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === roleId),
  );
  const statements = policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
  return Object.fromEntries(statements.map((statement) => [statement.Sid as string, statement]));
}

/** A container's environment variable, its tokens written <LogicalId> or <LogicalId.Attribute>. */
function environmentOf({ template }: Synth, container: string, name: string): unknown {
  const definitions = Object.values(template.findResources('AWS::ECS::TaskDefinition')).flatMap(
    (definition) => definition.Properties.ContainerDefinitions as Array<{ Name: string; Environment: Array<{ Name: string; Value: unknown }> }>,
  );
  const value = definitions.find((definition) => definition.Name === container)?.Environment.find((variable) => variable.Name === name)?.Value;
  return readableValue(value);
}

describe('several sources in the raw bucket and another bucket of the account', () => {
  it('writes one S3 notification per prefix and suffix on the raw bucket the stack creates', () => {
    const { stack, template } = several;
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(stack, stack.storage.rawBucket) },
      NotificationConfiguration: {
        QueueConfigurations: ['fleet-a/', 'fleet-b/'].flatMap((prefix) =>
          SUFFIXES.map((suffix) => ({
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }, { Name: 'prefix', Value: prefix }] } },
            QueueArn: { 'Fn::GetAtt': [logicalId(stack, stack.queues.queue), 'Arn'] },
          })),
        ),
      },
    });
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
  });

  it("matches the other bucket's Object Created events by prefix and suffix with an EventBridge rule, which alone may send besides S3", () => {
    const { stack, template } = several;
    expect(stack.notifications.objectCreatedEvents).toHaveLength(1);
    const rule = stack.notifications.objectCreatedEvents[0]!.rule;
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: [PARTNER] }, object: { key: SUFFIXES.map((suffix) => ({ wildcard: `in/*${suffix}` })) } },
      },
    });
    const queueId = logicalId(stack, stack.queues.queue);
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((resource) =>
      (resource.Properties.Queues as Array<{ Ref: string }>).some((ref) => ref.Ref === queueId),
    );
    const senders = (policy?.Properties.PolicyDocument.Statement as Array<{ Principal?: { Service?: string }; Condition?: unknown }>).filter(
      (statement) => statement.Principal?.Service !== undefined,
    );
    expect(senders.map((statement) => [statement.Principal?.Service, statement.Condition])).toEqual([
      ['s3.amazonaws.com', { ArnLike: { 'aws:SourceArn': rawArn(several) }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }],
      ['events.amazonaws.com', { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, rule), 'Arn'] } } }],
    ]);
  });

  it('lets the worker read and list exactly the sources', () => {
    const statements = statementsOf(several, several.stack.workers.taskDefinition.taskRole);
    expect(statements.ReadRawObjects?.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expectSameResources(statements.ReadRawObjects?.Resource, [rawArn(several, '/fleet-a/*'), rawArn(several, '/fleet-b/*'), partnerObjects('in/*')]);
    expect(statements.ListRawBucket).toEqual({
      Sid: 'ListRawBucket',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: rawArn(several),
      Condition: { StringLike: { 's3:prefix': ['fleet-a/*', 'fleet-b/*'] } },
    });
    expect(statements.ListRawBucket2).toEqual({
      Sid: 'ListRawBucket2',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: PARTNER_ARN,
      Condition: { StringLike: { 's3:prefix': ['in/*'] } },
    });
    const everyResource = JSON.stringify(Object.values(statements).map((statement) => statement.Resource));
    expect(everyResource).not.toContain(`${PARTNER}/*`);
  });

  it('lets the scheduled reconcile list exactly the sources, and read none of their objects', () => {
    const statements = statementsOf(several, several.stack.reconcile!.taskDefinition.taskRole);
    expect(Object.keys(statements).sort()).toEqual(['ListOutputBucket', 'ListRawBucket', 'ListRawBucket2', 'ReadOutputMetadata', 'SendToIngestQueue']);
    expect(statements.ListRawBucket?.Condition).toEqual({ StringLike: { 's3:prefix': ['fleet-a/*', 'fleet-b/*'] } });
    expect(statements.ListRawBucket2?.Resource).toEqual(PARTNER_ARN);
  });

  it('gives the worker and reconcile the sources in SOURCES, each with the account that must own its bucket', () => {
    const rawId = logicalId(several.stack, several.stack.storage.rawBucket);
    const expected = [
      { bucket: `<${rawId}>`, prefix: 'fleet-a/', outputPrefix: 'a/', expectedBucketOwner: '<AWS::AccountId>' },
      { bucket: `<${rawId}>`, prefix: 'fleet-b/', expectedBucketOwner: '<AWS::AccountId>' },
      { bucket: PARTNER, prefix: 'in/', outputPrefix: 'partner/', expectedBucketOwner: '<AWS::AccountId>' },
    ];
    expect(JSON.parse(environmentOf(several, 'worker', 'SOURCES') as string)).toEqual(expected);
    expect(JSON.parse(environmentOf(several, 'reconcile', 'SOURCES') as string)).toEqual(expected);
  });

  it('says at synth that the other bucket needs EventBridge turned on by its owner', () => {
    const infos = Annotations.fromStack(several.stack).findInfo('*', Match.anyValue());
    expect(infos.map((info) => [info.id, info.entry.data])).toEqual([
      [
        `/${several.stack.stackName}/Sources/Bucket-${PARTNER}`,
        expect.stringContaining(`Existing bucket ${PARTNER} is used as it is; skipped: its whole configuration`) as unknown,
      ],
    ]);
    expect(infos[0]?.entry.data).toContain('turn on its Amazon EventBridge notifications');
  });

  it('synthesizes with every cdk-nag finding acknowledged and no warning', () => {
    expect(Annotations.fromStack(several.stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(several.stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('several sources with sourceAfterSuccess move', () => {
  it('archives each source under the archive prefix of its own bucket, and tags and deletes only source objects', () => {
    const statements = statementsOf(moved, moved.stack.workers.taskDefinition.taskRole);
    expectSameResources(statements.WriteArchivedRawObjects?.Resource, [rawArn(moved, '/archive/fleet-a/*'), rawArn(moved, '/archive/fleet-b/*'), partnerObjects('archive/in/*')]);
    const sourceObjects = [rawArn(moved, '/fleet-a/*'), rawArn(moved, '/fleet-b/*'), partnerObjects('in/*')];
    expectSameResources(statements.DeleteProcessedRawObjects?.Resource, sourceObjects);
    expectSameResources(statements.CopyTagsOfRawObjects?.Resource, sourceObjects);
  });
});

describe('sources with the other notification modes', () => {
  it('eventbridge: one rule for the raw bucket with a wildcard per prefix and suffix', () => {
    const { stack, template } = synth({ notificationMode: 'eventbridge', sources: [{ prefix: 'fleet-a/' }, { prefix: 'fleet-b/' }], suffixes: '.jsonl' });
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: { bucket: { name: [{ Ref: logicalId(stack, stack.storage.rawBucket) }] }, object: { key: [{ wildcard: 'fleet-a/*.jsonl' }, { wildcard: 'fleet-b/*.jsonl' }] } },
      }),
    });
  });

  it('trigger: the raw bucket invokes the trigger per prefix and suffix', () => {
    const { template } = synth({ notificationMode: 'trigger', sources: [{ prefix: 'fleet-a/' }], suffixes: '.jsonl' });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          Match.objectLike({ Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: '.jsonl' }, { Name: 'prefix', Value: 'fleet-a/' }] } } }),
        ],
      },
    });
  });

  it('a default deployment reads the whole raw bucket, listed without a condition', () => {
    const defaults = synth();
    const statements = statementsOf(defaults, defaults.stack.workers.taskDefinition.taskRole);
    expect(statements.ReadRawObjects?.Resource).toEqual(rawArn(defaults, '/*'));
    expect(statements.ListRawBucket).toEqual({ Sid: 'ListRawBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: rawArn(defaults) });
    const rawId = logicalId(defaults.stack, defaults.stack.storage.rawBucket);
    expect(JSON.parse(environmentOf(defaults, 'worker', 'SOURCES') as string)).toEqual([{ bucket: `<${rawId}>`, expectedBucketOwner: '<AWS::AccountId>' }]);
  });
});
