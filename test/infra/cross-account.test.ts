/**
 * A raw bucket in another account: the other account sends its bucket's S3 notifications straight to the ingest
 * queue, whose policy lets exactly that bucket of that account send; the stack writes what the owner must add
 * (bucket policy statements, notification configuration, key policy statement) into outputs and says so at synth;
 * every S3 call on it is owner-checked (SOURCES' expectedBucketOwner). Every synth runs cdk-nag.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { crossAccountDocuments, readableValue } from '../../infra/cross-account.ts';
import { logicalId, synth } from '../support/synth.ts';

const PARTNER = 'partner-iot-drop';
const PARTNER_ACCOUNT = '444455556666';
const KEY = 'arn:aws:kms:eu-central-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SUFFIXES = ['.jsonl', '.jsonl.gz', '.jsonl.zst'];

// The stack's raw bucket needs an output prefix of its own: its raw key partner/sensors/x would meet the partner's output.
const sources = [{ outputPrefix: 'own/' }, { bucket: PARTNER, prefix: 'sensors/', outputPrefix: 'partner/', account: PARTNER_ACCOUNT, kmsKeyArn: KEY }];
const crossAccount = synth({ sources: JSON.stringify(sources), sourceAfterSuccess: 'tag' });

type Synth = typeof crossAccount;

/** An output's value as JSON, its tokens written <LogicalId.Attribute>. */
function outputDocument({ template }: Synth, id: string): unknown {
  const output = template.findOutputs(id)[id] as { Value: unknown } | undefined;
  expect(output).toBeDefined();
  return JSON.parse(readableValue(output!.Value) as string);
}

function roleArn({ stack }: Synth, role: { node: { defaultChild?: unknown } }): string {
  return `<${logicalId(stack, role)}.Arn>`;
}

describe('crossAccountDocuments', () => {
  const stack = { workerRoleArn: 'arn:aws:iam::111122223333:role/worker', reconcileRoleArn: 'arn:aws:iam::111122223333:role/reconcile', queueArn: 'arn:aws:sqs:eu-central-1:111122223333:ingest' };
  const bucket = { bucketArn: 'arn:aws:s3:::partner-iot-drop', account: PARTNER_ACCOUNT, prefixes: ['a/', 'b/'], kmsKeyArns: [KEY] };

  it('lets the worker read and the worker and reconcile list exactly the prefixes, and announces each prefix and suffix to the queue', () => {
    const documents = crossAccountDocuments(bucket, stack, { suffixes: ['.jsonl', '.jsonl.gz'], sourceAfterSuccess: 'keep', archivePrefix: 'archive/' });
    expect(documents.bucketPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'IotIngestReadRawObjects',
          Effect: 'Allow',
          Principal: { AWS: stack.workerRoleArn },
          Action: ['s3:GetObject', 's3:GetObjectVersion'],
          Resource: ['arn:aws:s3:::partner-iot-drop/a/*', 'arn:aws:s3:::partner-iot-drop/b/*'],
        },
        {
          Sid: 'IotIngestListRawBucket',
          Effect: 'Allow',
          Principal: { AWS: [stack.workerRoleArn, stack.reconcileRoleArn] },
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::partner-iot-drop',
          Condition: { StringLike: { 's3:prefix': ['a/*', 'b/*'] } },
        },
      ],
    });
    expect(documents.notificationConfiguration.QueueConfigurations).toEqual(
      [
        ['a/', '.jsonl'],
        ['a/', '.jsonl.gz'],
        ['b/', '.jsonl'],
        ['b/', '.jsonl.gz'],
      ].map(([prefix, suffix], index) => ({
        Id: `iot-ingest-${index + 1}`,
        QueueArn: stack.queueArn,
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: prefix }, { Name: 'suffix', Value: suffix }] } },
      })),
    );
    expect(documents.keyPolicyStatements).toEqual([
      {
        keyArn: KEY,
        statement: {
          Sid: 'IotIngestDecryptRawObjects',
          Effect: 'Allow',
          Principal: { AWS: stack.workerRoleArn },
          Action: 'kms:Decrypt',
          Resource: '*',
          Condition: { StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' } },
        },
      },
    ]);
  });

  it('adds what sourceAfterSuccess does, lists a whole bucket without a condition, and leaves reconcile out when it is off', () => {
    const whole = { ...bucket, prefixes: [''], kmsKeyArns: [KEY] };
    const documents = crossAccountDocuments(whole, { ...stack, reconcileRoleArn: undefined }, { suffixes: ['.jsonl'], sourceAfterSuccess: 'move', archivePrefix: 'archive/' });
    const statements = documents.bucketPolicy.Statement;
    expect(statements.map((statement) => statement.Sid)).toEqual([
      'IotIngestReadRawObjects',
      'IotIngestListRawBucket',
      'IotIngestCopyTagsOfRawObjects',
      'IotIngestWriteArchivedRawObjects',
      'IotIngestDeleteProcessedRawObjects',
    ]);
    expect(statements[1]).toEqual({ Sid: 'IotIngestListRawBucket', Effect: 'Allow', Principal: { AWS: stack.workerRoleArn }, Action: 's3:ListBucket', Resource: whole.bucketArn });
    expect(statements[3]).toMatchObject({ Action: ['s3:PutObject', 's3:PutObjectTagging'], Resource: ['arn:aws:s3:::partner-iot-drop/archive/*'] });
    expect(documents.notificationConfiguration.QueueConfigurations[0]?.Filter).toEqual({ Key: { FilterRules: [{ Name: 'suffix', Value: '.jsonl' }] } });
    expect(documents.keyPolicyStatements[0]?.statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });
});

describe('a source bucket in another account', () => {
  it('lets exactly that bucket of that account send S3 notifications to the queue, and configures nothing on it', () => {
    const { stack, template } = crossAccount;
    const queueId = logicalId(stack, stack.queues.queue);
    const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((resource) =>
      (resource.Properties.Queues as Array<{ Ref: string }>).some((ref) => ref.Ref === queueId),
    );
    const fromS3 = (policy?.Properties.PolicyDocument.Statement as Array<{ Principal?: { Service?: string }; Condition?: unknown; Action: unknown }>).filter(
      (statement) => statement.Principal?.Service === 's3.amazonaws.com',
    );
    expect(fromS3.map((statement) => statement.Condition)).toEqual([
      { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, stack.storage.rawBucket), 'Arn'] } }, StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      {
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${PARTNER}`]] } },
        StringEquals: { 'aws:SourceAccount': PARTNER_ACCOUNT },
      },
    ]);
    template.resourceCountIs('AWS::Events::Rule', 0);
    // The stack's own raw bucket only: the other account's bucket is configured by its owner.
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
  });

  it('checks the owner of every raw bucket: SOURCES names the other account for its bucket', () => {
    const definitions = Object.values(crossAccount.template.findResources('AWS::ECS::TaskDefinition')).flatMap(
      (definition) => definition.Properties.ContainerDefinitions as Array<{ Name: string; Environment: Array<{ Name: string; Value: unknown }> }>,
    );
    const worker = definitions.find((definition) => definition.Name === 'worker')!;
    const value = JSON.parse(readableValue(worker.Environment.find((variable) => variable.Name === 'SOURCES')?.Value) as string) as unknown[];
    expect(value[1]).toEqual({ bucket: PARTNER, prefix: 'sensors/', outputPrefix: 'partner/', expectedBucketOwner: PARTNER_ACCOUNT });
    expect(value[0]).toMatchObject({ expectedBucketOwner: '<AWS::AccountId>' });
  });

  it("writes the owner's bucket policy, notification configuration and key policy statement into outputs, with the roles' and queue's ARNs", () => {
    const { stack } = crossAccount;
    const worker = roleArn(crossAccount, stack.workers.taskDefinition.taskRole);
    const reconcile = roleArn(crossAccount, stack.reconcile!.taskDefinition.taskRole);
    const bucketArn = `arn:<AWS::Partition>:s3:::${PARTNER}`;
    const policy = outputDocument(crossAccount, 'CrossAccountBucket1Policy') as { Statement: Array<Record<string, unknown>> };
    expect(policy.Statement).toEqual([
      { Sid: 'IotIngestReadRawObjects', Effect: 'Allow', Principal: { AWS: worker }, Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: [`${bucketArn}/sensors/*`] },
      {
        Sid: 'IotIngestListRawBucket',
        Effect: 'Allow',
        Principal: { AWS: [worker, reconcile] },
        Action: 's3:ListBucket',
        Resource: bucketArn,
        Condition: { StringLike: { 's3:prefix': ['sensors/*'] } },
      },
      {
        Sid: 'IotIngestTagProcessedRawObjects',
        Effect: 'Allow',
        Principal: { AWS: worker },
        Action: ['s3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObjectTagging', 's3:PutObjectVersionTagging'],
        Resource: [`${bucketArn}/sensors/*`],
      },
    ]);
    const notifications = outputDocument(crossAccount, 'CrossAccountBucket1Notifications') as { QueueConfigurations: Array<Record<string, unknown>> };
    expect(notifications.QueueConfigurations).toEqual(
      SUFFIXES.map((suffix, index) => ({
        Id: `iot-ingest-${index + 1}`,
        QueueArn: `<${logicalId(stack, stack.queues.queue)}.Arn>`,
        Events: ['s3:ObjectCreated:*'],
        Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'sensors/' }, { Name: 'suffix', Value: suffix }] } },
      })),
    );
    expect(outputDocument(crossAccount, 'CrossAccountBucket1KeyPolicy1')).toMatchObject({ Principal: { AWS: worker }, Action: 'kms:Decrypt' });
  });

  it('says at synth which outputs hold what the owner must add, with the documents', () => {
    const infos = Annotations.fromStack(crossAccount.stack).findInfo('*', Match.anyValue());
    expect(infos).toHaveLength(1);
    expect(infos[0]?.id).toBe(`/${crossAccount.stack.stackName}/Sources/Bucket-${PARTNER}`);
    const message = infos[0]?.entry.data as string;
    expect(message).toContain(`Bucket ${PARTNER} is in account ${PARTNER_ACCOUNT}: its owner must add what the stack outputs CrossAccountBucket1Policy, CrossAccountBucket1Notifications, CrossAccountBucket1KeyPolicy1 hold`);
    expect(message).toContain('aws cloudformation describe-stacks --stack-name');
    expect(message).toContain('"Sid":"IotIngestReadRawObjects"');
    expect(message).toContain(`"QueueArn":"<${logicalId(crossAccount.stack, crossAccount.stack.queues.queue)}.Arn>"`);
  });

  it('synthesizes with every cdk-nag finding acknowledged and no warning', () => {
    expect(Annotations.fromStack(crossAccount.stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(crossAccount.stack).findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('a source bucket in another account, with the stack in a known account and region', () => {
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  afterEach(() => {
    for (const [name, value] of [
      ['CDK_DEFAULT_ACCOUNT', saved.account],
      ['CDK_DEFAULT_REGION', saved.region],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('prints the ARNs known at synth as they are', () => {
    process.env.CDK_DEFAULT_ACCOUNT = '111122223333';
    process.env.CDK_DEFAULT_REGION = 'eu-central-1';
    const { stack } = synth({ sources: [{ bucket: PARTNER, account: PARTNER_ACCOUNT }] });
    const message = Annotations.fromStack(stack).findInfo('*', Match.anyValue())[0]?.entry.data as string;
    expect(message).toContain(`"Resource":"arn:aws:s3:::${PARTNER}"`);
    expect(message).not.toContain('<AWS::');
  });
});
