/**
 * Issue 16 in the template: the completion-event topic and the worker's publish grant, the task role's exact
 * statements for each source mode, the lifecycle rule that expires what a mode leaves behind, and the scheduled
 * `ops reconcile` task (its schedule, command, roles, metrics and alarm). Every synth runs cdk-nag.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IngestStack } from '../../infra/ingest-stack.ts';
import { buildDeployedApp, logicalId, synth, temporaryOutdir } from '../support/synth.ts';

type Synth = ReturnType<typeof synth>;
type Construct = { node: { defaultChild?: unknown } };

const keep = synth();
const tag = synth({ sourceAfterSuccess: 'tag', sourceExpireDays: '30' });
const remove = synth({ sourceAfterSuccess: 'delete' });
const move = synth({ sourceAfterSuccess: 'move', sourceExpireDays: 7, outputFormat: 'parquet' });
const cron = synth({
  reconcileSchedule: 'cron(15 3 * * ? *)',
  reconcileWindowHours: 72,
  natGateways: 0,
  suffixes: '.ndjson',
  architecture: 'x86_64',
  logRetentionDays: 90,
});
const off = synth({ reconcileSchedule: 'off' });

const arnOf = (stack: IngestStack, construct: Construct) => ({ 'Fn::GetAtt': [logicalId(stack, construct), 'Arn'] });
const objectsOf = (stack: IngestStack, construct: Construct, pattern = '*') => ({ 'Fn::Join': ['', [arnOf(stack, construct), `/${pattern}`]] });

/** The statements of the one inline policy attached to a role. */
function statementsOf({ stack, template }: Synth, role: Construct): unknown[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    (policy.Properties.Roles as Array<{ Ref: string }>).some((attached) => attached.Ref === logicalId(stack, role)),
  );
  expect(policies).toHaveLength(1);
  return policies[0]!.Properties.PolicyDocument.Statement as unknown[];
}

/** Statements that other settings add to the worker's task role (output format, device registry). */
const OTHER_OPTIONAL_STATEMENTS = new Set(['RemovePartialParquet', 'ReadDeviceRegistry', 'DecryptDeviceRegistry']);

/**
 * The worker task role's statements after the ones every deployment has (ingest-stack.test.ts pins those),
 * less those other settings add: what the source mode adds.
 */
function modeStatements(synthesized: Synth): unknown[] {
  const statements = statementsOf(synthesized, synthesized.stack.workers.taskDefinition.taskRole) as Array<{ Sid: string }>;
  const publish = statements.findIndex((statement) => statement.Sid === 'PublishFileEvents');
  expect(publish).toBeGreaterThan(0);
  return statements.slice(publish + 1).filter((statement) => !OTHER_OPTIONAL_STATEMENTS.has(statement.Sid));
}

function environmentOf(template: Template, containerName: string): Record<string, unknown> {
  const definitions = Object.values(template.findResources('AWS::ECS::TaskDefinition')).flatMap(
    (definition) => definition.Properties.ContainerDefinitions as Array<{ Name: string; Environment: Array<{ Name: string; Value: unknown }> }>,
  );
  const container = definitions.find((definition) => definition.Name === containerName);
  expect(container).toBeDefined();
  return Object.fromEntries(container!.Environment.map(({ Name, Value }) => [Name, Value]));
}

function rawBucketRules({ stack, template }: Synth): unknown[] {
  return template.findResources('AWS::S3::Bucket')[logicalId(stack, stack.storage.rawBucket)]!.Properties.LifecycleConfiguration.Rules as unknown[];
}

describe('completion events', () => {
  it('go to an SNS topic encrypted with the AWS managed key for SNS, whose policy refuses publishing without TLS', () => {
    const { stack, template } = keep;
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'IoT ingest: one event per processed file',
      KmsMasterKeyId: {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':kms:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alias/aws/sns']],
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: logicalId(stack, stack.fileEvents.topic) }],
      PolicyDocument: {
        Statement: [
          {
            Sid: 'AllowPublishThroughSSLOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: { Ref: logicalId(stack, stack.fileEvents.topic) },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
        Version: '2012-10-17',
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasOutput('FileEventsTopicArn', { Value: { Ref: logicalId(stack, stack.fileEvents.topic) } });
  });

  it('are published by the worker: FILE_EVENTS_TOPIC_ARN, and sns:Publish on that topic alone (the managed key needs no KMS grant)', () => {
    const { stack, template } = keep;
    expect(environmentOf(template, 'worker')).toMatchObject({ FILE_EVENTS_TOPIC_ARN: { Ref: logicalId(stack, stack.fileEvents.topic) } });
    const publishes = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>).filter((statement) =>
        JSON.stringify(statement).match(/sns:|kms:/),
      ),
    );
    expect(publishes).toEqual([{ Sid: 'PublishFileEvents', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: logicalId(stack, stack.fileEvents.topic) } }]);
    expect(statementsOf(keep, stack.workers.taskDefinition.taskRole)).toContainEqual(publishes[0]);
  });
});

describe('the source object after success', () => {
  it('keep (default): the worker is told so, and gets nothing more on the raw bucket; no expiry rule', () => {
    expect(environmentOf(keep.template, 'worker')).toMatchObject({ SOURCE_AFTER_SUCCESS: 'keep', SOURCE_ARCHIVE_PREFIX: 'archive/' });
    expect(modeStatements(keep)).toEqual([]);
    expect(rawBucketRules(keep)).toEqual([
      { Id: 'expire-old-versions', NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' },
      { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' },
    ]);
  });

  it('tag: reads and writes the tags of raw objects and their versions, nothing else', () => {
    const { stack } = tag;
    expect(environmentOf(tag.template, 'worker')).toMatchObject({ SOURCE_AFTER_SUCCESS: 'tag' });
    expect(modeStatements(tag)).toEqual([
      {
        Sid: 'TagProcessedRawObjects',
        Effect: 'Allow',
        Action: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        Resource: objectsOf(stack, stack.storage.rawBucket),
      },
    ]);
  });

  it('tag with sourceExpireDays: expires objects tagged iot-ingest=processed, and their noncurrent versions, after N days', () => {
    expect(rawBucketRules(tag)).toContainEqual({
      Id: 'expire-processed-raw-objects',
      TagFilters: [{ Key: 'iot-ingest', Value: 'processed' }],
      ExpirationInDays: 30,
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
      Status: 'Enabled',
    });
    expect(rawBucketRules(tag)).toHaveLength(3);
  });

  it('delete: deletes raw objects and their versions, nothing else', () => {
    const { stack } = remove;
    expect(environmentOf(remove.template, 'worker')).toMatchObject({ SOURCE_AFTER_SUCCESS: 'delete' });
    expect(modeStatements(remove)).toEqual([
      { Sid: 'DeleteProcessedRawObjects', Effect: 'Allow', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: objectsOf(stack, stack.storage.rawBucket) },
    ]);
    expect(rawBucketRules(remove)).toHaveLength(2);
  });

  it('move: copies with the source tags to the archive prefix only, then deletes the processed version', () => {
    const { stack } = move;
    expect(environmentOf(move.template, 'worker')).toMatchObject({ SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_PREFIX: 'archive/' });
    expect(modeStatements(move)).toEqual([
      { Sid: 'CopyTagsOfRawObjects', Effect: 'Allow', Action: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'], Resource: objectsOf(stack, stack.storage.rawBucket) },
      { Sid: 'WriteArchivedRawObjects', Effect: 'Allow', Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: objectsOf(stack, stack.storage.rawBucket, 'archive/*') },
      { Sid: 'DeleteProcessedRawObjects', Effect: 'Allow', Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'], Resource: objectsOf(stack, stack.storage.rawBucket) },
    ]);
  });

  it('move with sourceExpireDays: expires objects under the archive prefix, and their noncurrent versions, after N days', () => {
    expect(rawBucketRules(move)).toContainEqual({
      Id: 'expire-archived-raw-objects',
      Prefix: 'archive/',
      ExpirationInDays: 7,
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
      Status: 'Enabled',
    });
    expect(rawBucketRules(move)).toHaveLength(3);
  });

  it('move to another archive prefix: the worker, the grant and the rule follow it', () => {
    const other = synth({ sourceAfterSuccess: 'move', sourceArchivePrefix: 'done/', sourceExpireDays: 1 });
    const { stack } = other;
    expect(environmentOf(other.template, 'worker')).toMatchObject({ SOURCE_ARCHIVE_PREFIX: 'done/' });
    expect(modeStatements(other)).toContainEqual(
      expect.objectContaining({ Sid: 'WriteArchivedRawObjects', Resource: objectsOf(stack, stack.storage.rawBucket, 'done/*') }),
    );
    expect(rawBucketRules(other)).toContainEqual(expect.objectContaining({ Id: 'expire-archived-raw-objects', Prefix: 'done/', ExpirationInDays: 1 }));
  });
});

describe('scheduled reconcile', () => {
  it('runs daily by default, as a Fargate task on the workers\' cluster, subnets and security group, through a role of its own', () => {
    const { stack, template } = keep;
    const reconcile = stack.reconcile!;
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 day)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: arnOf(stack, stack.workers.cluster),
        RoleArn: arnOf(stack, reconcile.schedulerRole),
        EcsParameters: {
          LaunchType: 'FARGATE',
          TaskDefinitionArn: { Ref: logicalId(stack, reconcile.taskDefinition) },
          NetworkConfiguration: {
            AwsvpcConfiguration: {
              AssignPublicIp: 'DISABLED',
              SecurityGroups: [{ 'Fn::GetAtt': [logicalId(stack, stack.workers.securityGroup), 'GroupId'] }],
              Subnets: stack.workers.vpc.privateSubnets.map((subnet) => ({ Ref: logicalId(stack, subnet) })),
            },
          },
        },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
      },
    });
  });

  it('runs `ops reconcile --since 48h --json` from the worker image with the settings reconcile reads', () => {
    const { stack, template } = keep;
    const [worker, reconcile] = ['worker', 'reconcile'].map(
      (name) =>
        Object.values(template.findResources('AWS::ECS::TaskDefinition'))
          .flatMap((definition) => definition.Properties.ContainerDefinitions as Array<Record<string, unknown>>)
          .find((container) => container.Name === name)!,
    );
    expect(reconcile!.Command).toEqual(['node', 'dist/ops/cli/main.js', 'reconcile', '--since', '48h', '--json']);
    expect(reconcile!.Image).toEqual(worker!.Image);
    expect(reconcile!.ReadonlyRootFilesystem).toBe(true);
    const processed = { Ref: logicalId(stack, stack.storage.processedBucket) };
    expect(environmentOf(template, 'reconcile')).toEqual({
      AWS_REGION: { Ref: 'AWS::Region' },
      RAW_BUCKET: { Ref: logicalId(stack, stack.storage.rawBucket) },
      // The one default source, the whole raw bucket, owner-checked against the stack's account.
      SOURCES: {
        'Fn::Join': ['', ['[{"bucket":"', { Ref: logicalId(stack, stack.storage.rawBucket) }, '","expectedBucketOwner":"', { Ref: 'AWS::AccountId' }, '"}]']],
      },
      QUEUE_URL: { Ref: logicalId(stack, stack.queues.queue) },
      PROCESSED_BUCKET: processed,
      PROCESSED_PREFIX: '',
      REJECTED_BUCKET: processed,
      REJECTED_PREFIX: 'rejected/',
      OUTPUT_FORMAT: 'jsonl',
      SOURCE_AFTER_SUCCESS: 'keep',
      SOURCE_ARCHIVE_PREFIX: 'archive/',
      NODE_OPTIONS: '--max-semi-space-size=4 --max-old-space-size=768',
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '256',
      Memory: '1024',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      TaskRoleArn: arnOf(stack, stack.reconcile!.taskDefinition.taskRole),
    });
  });

  it('takes its schedule, window, suffixes, architecture and log retention from context, and starts with a public IP without NAT', () => {
    const { stack, template } = cron;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(15 3 * * ? *)',
      Target: { EcsParameters: { NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) } } },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Name: 'reconcile', Command: ['node', 'dist/ops/cli/main.js', 'reconcile', '--since', '72h', '--json', '--suffix', '.ndjson'] }),
      ],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(template.findResources('AWS::Logs::LogGroup')[logicalId(stack, stack.reconcile!.logGroup)]?.Properties).toEqual({ RetentionInDays: 90 });
  });

  it('is left out entirely with reconcileSchedule off', () => {
    const { stack, template } = off;
    expect(stack.reconcile).toBeUndefined();
    template.resourceCountIs('AWS::Scheduler::Schedule', 0);
    template.resourceCountIs('AWS::ECS::TaskDefinition', 1);
    template.resourceCountIs('AWS::Logs::MetricFilter', 0);
    expect(Object.keys(template.findOutputs('ReconcileLogGroupName'))).toEqual([]);
  });

  it('may only list the raw and output buckets, read output metadata and send to the ingest queue (JSON Lines: the whole output bucket)', () => {
    const { stack } = keep;
    expect(statementsOf(keep, stack.reconcile!.taskDefinition.taskRole)).toEqual([
      { Sid: 'ListRawBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(stack, stack.storage.rawBucket) },
      // HeadObject of a missing output answers 404 only with s3:ListBucket, 403 without.
      { Sid: 'ListOutputBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(stack, stack.storage.processedBucket) },
      { Sid: 'ReadOutputMetadata', Effect: 'Allow', Action: 's3:GetObject', Resource: objectsOf(stack, stack.storage.processedBucket) },
      { Sid: 'SendToIngestQueue', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arnOf(stack, stack.queues.queue) },
    ]);
  });

  it('with Parquet output reads only the rejected outputs, the one output per file', () => {
    const { stack } = move;
    expect(statementsOf(move, stack.reconcile!.taskDefinition.taskRole)).toContainEqual({
      Sid: 'ReadOutputMetadata',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: objectsOf(stack, stack.storage.processedBucket, 'rejected/*'),
    });
    expect(environmentOf(move.template, 'reconcile')).toMatchObject({ OUTPUT_FORMAT: 'parquet', SOURCE_AFTER_SUCCESS: 'move' });
  });

  it("lets the scheduler only run that task definition and pass its two roles to ECS; only EventBridge Scheduler of this account assumes it", () => {
    const { stack, template } = keep;
    const reconcile = stack.reconcile!;
    expect(statementsOf(keep, reconcile.schedulerRole)).toEqual([
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: [arnOf(stack, reconcile.taskDefinition.executionRole!), arnOf(stack, reconcile.taskDefinition.taskRole)],
        Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      },
      { Effect: 'Allow', Action: 'ecs:RunTask', Resource: { Ref: logicalId(stack, reconcile.taskDefinition) } },
    ]);
    const role = template.findResources('AWS::IAM::Role')[logicalId(stack, reconcile.schedulerRole)];
    expect(role?.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
            'aws:SourceArn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':schedule-group/default']],
            },
          },
        },
      },
    ]);
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('counts each run from its JSON summary line: one metric filter per count', () => {
    const { stack, template } = keep;
    for (const [field, metricName] of [
      ['listed', 'ListedObjects'],
      ['missing', 'MissingObjects'],
      ['stale', 'StaleObjects'],
      ['incomplete', 'IncompleteObjects'],
      ['sent', 'SentObjects'],
    ]) {
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: { Ref: logicalId(stack, stack.reconcile!.logGroup) },
        FilterPattern: `{ $.${field} >= 0 }`,
        MetricTransformations: [{ MetricNamespace: 'IotIngest/Reconcile', MetricName: metricName, MetricValue: `$.${field}` }],
      });
    }
    template.resourceCountIs('AWS::Logs::MetricFilter', 5);
  });

  it('alarms to the alarm topic when two runs in a row found missing objects (one period per run)', () => {
    const { stack, template } = keep;
    const topic = { Ref: logicalId(stack, stack.monitoring.topic) };
    const alarm = template.findResources('AWS::CloudWatch::Alarm')[logicalId(stack, stack.reconcile!.missingAlarm)];
    expect(alarm?.Properties).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      OKActions: [topic],
      Metrics: [
        {
          Id: 'm1',
          Label: 'missing',
          ReturnData: true,
          MetricStat: { Metric: { Namespace: 'IotIngest/Reconcile', MetricName: 'MissingObjects' }, Period: 86_400, Stat: 'Maximum' },
        },
      ],
    });
    expect(alarm?.Properties.AlarmDescription).toContain('notifications are being lost');
    const hourly = synth({ reconcileSchedule: 'rate(6 hours)' });
    hourly.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'MissingObjects' }), Period: 21_600 }) })],
    });
  });

  it('draws what each run found on the dashboard', () => {
    const { template } = keep;
    const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    expect(body).toContain('Reconcile (per run)');
    expect(body).toContain('MissingObjects');
    expect(body).toContain('SentObjects');
    expect(JSON.stringify(off.template.findResources('AWS::CloudWatch::Dashboard'))).not.toContain('Reconcile');
  });

  it('runs the very image asset the worker service runs: one Docker image in the assembly', () => {
    const outdir = temporaryOutdir();
    const { app, stack } = buildDeployedApp({ outdir });
    const assembly = app.synth();
    const manifest = JSON.parse(readFileSync(join(outdir, `${assembly.getStackArtifact(stack.artifactId).stackName}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, unknown>;
    };
    expect(Object.keys(manifest.dockerImages)).toHaveLength(1);
    const images = Object.values(Template.fromStack(stack).findResources('AWS::ECS::TaskDefinition')).map(
      (definition) => (definition.Properties.ContainerDefinitions as Array<{ Image: unknown }>)[0]!.Image,
    );
    expect(images).toHaveLength(2);
    expect(images[1]).toEqual(images[0]);
  });
});
