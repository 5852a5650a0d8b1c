/**
 * Existing buckets (existingRawBucket, existingProcessedBucket): the settings that choose them, and a template
 * that uses them without a single resource that configures them: no bucket, bucket policy, lifecycle rule,
 * notification or auto-delete resource on them; the roles' grants name their ARNs; the synth says what it skipped;
 * notifications go through EventBridge. Every synth runs cdk-nag.
 */
import { describe, expect, it } from '@jest/globals';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { readSettings } from '../../infra/settings.ts';
import { buildDeployedApp, logicalId, REGISTRY_IMAGE, synth, temporaryOutdir } from '../support/synth.ts';

function settingsFrom(context: Record<string, unknown>) {
  return readSettings((key) => context[key]);
}

const RAW_ARN = 'arn:aws:s3:::acme-sensor-uploads';
const PROCESSED_NAME = 'acme-sensor-processed';

const both = synth({ existingRawBucket: RAW_ARN, existingProcessedBucket: PROCESSED_NAME, sourceAfterSuccess: 'move', sourceExpireDays: 30 });
const processedOnly = synth({ existingProcessedBucket: PROCESSED_NAME });

type Synth = typeof both;

/** Every statement of every IAM policy in the template. */
function iamStatements({ template }: Synth): unknown[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) => policy.Properties.PolicyDocument.Statement as unknown[]);
}

/** The info messages of the synth, by the path of the construct they are on. */
function infosOf({ stack }: Synth): Record<string, string> {
  const messages = Annotations.fromStack(stack).findInfo('*', Match.anyValue());
  return Object.fromEntries(messages.map((message) => [message.id, message.entry.data as string]));
}

describe('the existing bucket settings', () => {
  it('take a bucket name or ARN, and make EventBridge the notification path with an existing raw bucket', () => {
    expect(settingsFrom({ existingRawBucket: RAW_ARN })).toMatchObject({ existingRawBucket: RAW_ARN, notificationMode: 'eventbridge' });
    expect(settingsFrom({ existingProcessedBucket: PROCESSED_NAME })).toMatchObject({ existingProcessedBucket: PROCESSED_NAME, notificationMode: 'direct' });
    expect(settingsFrom({ existingRawBucket: 'acme.raw-2026', notificationMode: 'eventbridge' }).notificationMode).toBe('eventbridge');
    expect(settingsFrom({ existingRawBucket: 'arn:aws-cn:s3:::acme-raw' }).existingRawBucket).toBe('arn:aws-cn:s3:::acme-raw');
    expect(settingsFrom({ existingRawBucket: '' }).existingRawBucket).toBeUndefined();
  });

  it.each([
    [{ existingRawBucket: RAW_ARN, notificationMode: 'direct' }, 'notificationMode must be eventbridge when existingRawBucket is set'],
    [{ existingRawBucket: RAW_ARN, notificationMode: 'trigger' }, 'notificationMode must be eventbridge when existingRawBucket is set'],
    [{ existingRawBucket: 'Acme_Raw' }, 'existingRawBucket must be an S3 bucket name or ARN'],
    [{ existingRawBucket: 'ab' }, 'existingRawBucket must be an S3 bucket name or ARN'],
    [{ existingRawBucket: '192.168.1.1' }, 'existingRawBucket must be an S3 bucket name or ARN'],
    [{ existingRawBucket: 'acme..raw' }, 'existingRawBucket must be an S3 bucket name or ARN'],
    [{ existingRawBucket: 's3://acme-raw' }, 'existingRawBucket must be an S3 bucket name or ARN'],
    [{ existingProcessedBucket: 'arn:aws:s3:::acme-raw/*' }, 'existingProcessedBucket must be an S3 bucket name or ARN'],
    [{ existingProcessedBucket: 'arn:aws:sqs:eu-west-1:111122223333:acme' }, 'existingProcessedBucket must be an S3 bucket name or ARN'],
    [{ existingRawBucket: 'acme-raw', existingProcessedBucket: 'arn:aws:s3:::acme-raw' }, 'existingProcessedBucket must be a bucket other than existingRawBucket'],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });
});

describe('a stack with existing raw and processed buckets', () => {
  it('creates only the access-log bucket, and no bucket policy, lifecycle rule, notification or auto-delete resource for the others', () => {
    const { stack, template } = both;
    const buckets = template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toEqual([logicalId(stack, stack.storage.accessLogsBucket)]);
    expect(Object.values(template.findResources('AWS::S3::BucketPolicy')).map((policy) => policy.Properties.Bucket as unknown)).toEqual([
      { Ref: logicalId(stack, stack.storage.accessLogsBucket) },
    ]);
    const rules = Object.values(buckets)[0]?.Properties.LifecycleConfiguration.Rules as Array<{ Id: string }>;
    expect(rules.map((rule) => rule.Id)).toEqual(['expire-access-logs']);
    template.resourceCountIs('Custom::S3BucketNotifications', 0);
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    // Nothing else names the existing buckets but the grants, the rule, the tasks' environment and the outputs.
    const bucketApis = JSON.stringify(template.toJSON()).match(/"s3:(Put|Delete)Bucket\w*"/g);
    expect(bucketApis).toBeNull();
  });

  it('grants the worker and reconcile roles access by the existing buckets\' ARNs', () => {
    const statements = iamStatements(both);
    const processedArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${PROCESSED_NAME}`]] };
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Sid: 'ReadRawObjects', Resource: `${RAW_ARN}/*` }),
        expect.objectContaining({ Sid: 'ListRawBucket', Resource: RAW_ARN }),
        expect.objectContaining({ Sid: 'WriteArchivedRawObjects', Resource: `${RAW_ARN}/archive/*` }),
        expect.objectContaining({ Sid: 'WriteOutputObjects', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${PROCESSED_NAME}/*`]] } }),
        expect.objectContaining({ Sid: 'ListOutputBucket', Resource: processedArn }),
      ]),
    );
    both.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'PROCESSED_BUCKET', Value: PROCESSED_NAME }]) }),
      ]),
    });
  });

  it('sends the raw bucket\'s "Object Created" events through an EventBridge rule to the ingest queue', () => {
    const { stack, template } = both;
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: ['acme-sensor-uploads'] }, object: { key: [{ suffix: '.jsonl' }, { suffix: '.jsonl.gz' }, { suffix: '.jsonl.zst' }] } },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalId(stack, stack.queues.queue), 'Arn'] } })],
    });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  it('says at synth what it skipped on each existing bucket, and that the raw bucket needs EventBridge turned on', () => {
    const infos = infosOf(both);
    expect(Object.keys(infos)).toEqual([`/${both.stack.stackName}/Storage/Raw`, `/${both.stack.stackName}/Storage/Processed`]);
    const [rawInfo, processedInfo] = Object.values(infos);
    expect(rawInfo).toContain('Existing bucket acme-sensor-uploads is used as it is; skipped: versioning,');
    expect(rawInfo).toContain('lifecycle rule expire-old-versions, lifecycle rule abort-incomplete-uploads, lifecycle rule expire-archived-raw-objects');
    expect(rawInfo).toContain('server access logging');
    expect(rawInfo).toContain('turn on its Amazon EventBridge notifications, merged with the notification configuration it has');
    expect(processedInfo).toContain(`Existing bucket ${PROCESSED_NAME} is used as it is; skipped:`);
    expect(processedInfo).toContain('lifecycle rule expire-rejected, lifecycle rule abort-incomplete-uploads');
    expect(processedInfo).not.toContain('EventBridge');
  });

  it('synthesizes with every cdk-nag finding acknowledged and no warning', () => {
    expect(Annotations.fromStack(both.stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(both.stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('the pipeline with existing buckets', () => {
  it('deploys a stage whose stack passes cdk-nag with the same acknowledgements', () => {
    const context = {
      pipeline: true,
      pipelineRepository: 'owner/name',
      pipelineConnectionArn: 'arn:aws:codeconnections:eu-west-1:111122223333:connection/abc',
      existingRawBucket: 'acme-sensor-uploads',
      existingProcessedBucket: `arn:aws:s3:::${PROCESSED_NAME}`,
    };
    const { app, stack } = buildDeployedApp({ context, outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
    // app.synth() throws "Validation failed" with the report when any finding is left.
    expect(() => app.synth()).not.toThrow();
    expect(stack.settings.notificationMode).toBe('eventbridge');
  });
});

describe('a stack with an existing processed bucket only', () => {
  it('creates and configures the raw bucket as before, with direct notifications', () => {
    const { stack, template } = processedOnly;
    const raw = template.findResources('AWS::S3::Bucket')[logicalId(stack, stack.storage.rawBucket)];
    expect(raw?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(stack, stack.storage.rawBucket) },
      NotificationConfiguration: { QueueConfigurations: Match.anyValue() },
    });
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toHaveLength(2);
    expect(Object.values(infosOf(processedOnly))).toEqual([expect.stringContaining(`Existing bucket ${PROCESSED_NAME} is used as it is`)]);
  });

  it('points the Glue tables at the existing bucket when the data lake is on', () => {
    synth({ existingProcessedBucket: PROCESSED_NAME, outputFormat: 'parquet', dataLake: true }).template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: Match.objectLike({ StorageDescriptor: Match.objectLike({ Location: `s3://${PROCESSED_NAME}/parquet/dt=unknown/` }) }),
    });
  });
});

describe('a stack with its own buckets', () => {
  it('says nothing at synth', () => {
    expect(infosOf(synth())).toEqual({});
  });
});
