/**
 * SSE-KMS with a customer key (encryptionKey create or a key ARN; a source's kmsKeyArn; an existing processed
 * bucket's key): the buckets the stack creates and both queues use the key, the services that deliver to the queues
 * are in its key policy, and exactly the roles that use each key get exactly the actions they need, through the
 * service that needs them. Every synth runs cdk-nag.
 */
import { describe, expect, it } from '@jest/globals';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { readSettings } from '../../infra/settings.ts';
import { synth } from '../support/synth.ts';

type Synth = ReturnType<typeof synth>;
interface Statement {
  readonly Sid?: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

const STACK_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-0000-4000-8000-000000000001';
const PROCESSED_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-0000-4000-8000-000000000002';
const PARTNER_KEY = 'arn:aws:kms:eu-west-1:444455556666:key/0a1b2c3d-0000-4000-8000-000000000003';

const created = synth({ encryptionKey: 'create', sourceAfterSuccess: 'move' });
const viaEventBridge = synth({ encryptionKey: 'create', notificationMode: 'eventbridge' });
const viaTrigger = synth({ encryptionKey: 'create', notificationMode: 'trigger' });
const existingKeys = synth({
  encryptionKey: STACK_KEY,
  existingProcessedBucket: 'acme-processed',
  existingProcessedBucketKmsKeyArn: PROCESSED_KEY,
  sources: JSON.stringify([
    { outputPrefix: 'own/' },
    { bucket: 'partner-iot-drop', account: '444455556666', kmsKeyArn: PARTNER_KEY, outputPrefix: 'partner/' },
  ]),
});
const plain = synth();

function logicalIdOfType({ template }: Synth, type: string): string {
  const ids = Object.keys(template.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

/** The statements of the IAM policies attached to the role whose logical id starts with `rolePrefix`. */
function roleStatements({ template }: Synth, rolePrefix: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref.startsWith(rolePrefix)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

function kmsStatements(statements: readonly Statement[]): Statement[] {
  return statements.filter((statement) => [statement.Action].flat().some((action) => action.startsWith('kms:')));
}

function keyPolicyStatements({ template }: Synth): Statement[] {
  const [key] = Object.values(template.findResources('AWS::KMS::Key'));
  return key!.Properties.KeyPolicy.Statement as Statement[];
}

function servicePrincipalsOf(statements: readonly Statement[]): string[] {
  return statements.flatMap((statement) => {
    const principal = statement.Principal as { Service?: string } | undefined;
    return principal?.Service ? [principal.Service] : [];
  });
}

const sqsVia = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } };
const s3Via = { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } };

describe('the encryption settings', () => {
  const settingsFrom = (context: Record<string, unknown>) => readSettings((key) => context[key]);

  it('take aws-managed (the default), create or a key ARN', () => {
    expect(settingsFrom({}).encryptionKey).toBe('aws-managed');
    expect(settingsFrom({ encryptionKey: 'create' }).encryptionKey).toBe('create');
    expect(settingsFrom({ encryptionKey: STACK_KEY }).encryptionKey).toBe(STACK_KEY);
  });

  it.each([
    [{ encryptionKey: 'alias/acme' }, 'encryptionKey must be aws-managed, create, or'],
    [{ encryptionKey: 'arn:aws:kms:eu-west-1:111122223333:alias/acme' }, 'encryptionKey must be aws-managed, create, or'],
    [{ existingProcessedBucketKmsKeyArn: PROCESSED_KEY }, 'existingProcessedBucketKmsKeyArn must be'],
  ])('refuses %j, naming the key', (context, message) => {
    expect(() => settingsFrom(context)).toThrow(message);
  });
});

describe('a stack that creates its customer key', () => {
  it('creates one key, rotated and kept when the stack goes (the buckets it decrypts are kept)', () => {
    created.template.hasResource('AWS::KMS::Key', { Properties: { EnableKeyRotation: true }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    created.template.resourceCountIs('AWS::KMS::Key', 1);
  });

  it('encrypts the raw and processed buckets with it, with an S3 Bucket Key; the access-log bucket stays SSE-S3', () => {
    const keyId = logicalIdOfType(created, 'AWS::KMS::Key');
    const buckets = Object.entries(created.template.findResources('AWS::S3::Bucket'));
    const encryptionOf = (prefix: string): unknown =>
      buckets.find(([id]) => id.startsWith(prefix))![1].Properties.BucketEncryption.ServerSideEncryptionConfiguration[0] as unknown;
    for (const prefix of ['StorageRaw', 'StorageProcessed']) {
      expect(encryptionOf(prefix)).toEqual({
        BucketKeyEnabled: true,
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
      });
    }
    expect(encryptionOf('StorageAccessLogs')).toEqual({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } });
  });

  it('encrypts both queues with it', () => {
    const keyId = logicalIdOfType(created, 'AWS::KMS::Key');
    const queues = Object.values(created.template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(2);
    for (const queue of queues) {
      expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      expect(queue.Properties.SqsManagedSseEnabled).toBeUndefined();
    }
  });

  it('lets S3 deliver its notifications with the key in direct mode, and EventBridge in eventbridge mode', () => {
    expect(servicePrincipalsOf(keyPolicyStatements(created))).toContain('s3.amazonaws.com');
    expect(servicePrincipalsOf(keyPolicyStatements(created))).not.toContain('events.amazonaws.com');
    const eventBridge = keyPolicyStatements(viaEventBridge).find((statement) => (statement.Principal as { Service?: string }).Service === 'events.amazonaws.com');
    expect(eventBridge).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow' });
    expect(servicePrincipalsOf(keyPolicyStatements(viaEventBridge))).not.toContain('s3.amazonaws.com');
    // In trigger mode S3 delivers to the Lambda, not to a queue.
    expect(servicePrincipalsOf(keyPolicyStatements(viaTrigger))).toEqual([]);
  });

  it('gives the worker the queue key through SQS, the raw objects key to read and copy (move), the outputs key to write', () => {
    const keyArn = { 'Fn::GetAtt': [logicalIdOfType(created, 'AWS::KMS::Key'), 'Arn'] };
    expect(kmsStatements(roleStatements(created, 'WorkersTaskTaskRole'))).toEqual([
      { Sid: 'UseQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: sqsVia },
      { Sid: 'DecryptRawObjects', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: s3Via },
      { Sid: 'EncryptOutputObjects', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: s3Via },
    ]);
    // Without move the worker only decrypts raw objects.
    expect(kmsStatements(roleStatements(viaEventBridge, 'WorkersTaskTaskRole')).find((statement) => statement.Sid === 'DecryptRawObjects')).toMatchObject({
      Action: 'kms:Decrypt',
    });
  });

  it('gives reconcile only what sending to the queue needs, and the trigger what sending to both queues needs', () => {
    expect(kmsStatements(roleStatements(created, 'ReconcileTaskTaskRole'))).toEqual([
      expect.objectContaining({ Sid: 'SendWithQueueKey', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: sqsVia }),
    ]);
    expect(kmsStatements(roleStatements(viaTrigger, 'NotificationsTriggerRole'))).toEqual([
      expect.objectContaining({ Sid: 'SendWithQueueKey', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Condition: sqsVia }),
    ]);
    expect(roleStatements(viaTrigger, 'NotificationsTriggerRole')).toContainEqual(
      expect.objectContaining({ Sid: 'SendToQueues', Action: 'sqs:SendMessage', Resource: [expect.anything(), expect.anything()] }),
    );
  });

  it('gives no other role any use of the key', () => {
    const users = Object.values(created.template.findResources('AWS::IAM::Policy'))
      .filter((policy) => kmsStatements(policy.Properties.PolicyDocument.Statement as Statement[]).length > 0)
      .flatMap((policy) => (policy.Properties.Roles as Array<{ Ref: string }>).map((role) => role.Ref.replace(/[0-9A-F]{8}$/, '')));
    expect([...new Set(users)].sort()).toEqual(['ReconcileTaskTaskRole', 'WorkersTaskTaskRole']);
  });
});

describe('a stack with existing keys', () => {
  it('creates no key and uses the given one for the queues and the raw bucket it creates', () => {
    existingKeys.template.resourceCountIs('AWS::KMS::Key', 0);
    for (const queue of Object.values(existingKeys.template.findResources('AWS::SQS::Queue'))) expect(queue.Properties.KmsMasterKeyId).toBe(STACK_KEY);
    existingKeys.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: STACK_KEY } }] },
    });
  });

  it('grants the worker each key for what it does with it: its raw bucket and the partner bucket read, the existing processed bucket written', () => {
    expect(kmsStatements(roleStatements(existingKeys, 'WorkersTaskTaskRole'))).toEqual([
      { Sid: 'UseQueueKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: STACK_KEY, Condition: sqsVia },
      { Sid: 'DecryptRawObjects', Effect: 'Allow', Action: 'kms:Decrypt', Resource: [STACK_KEY, PARTNER_KEY], Condition: s3Via },
      { Sid: 'EncryptOutputObjects', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: PROCESSED_KEY, Condition: s3Via },
    ]);
  });

  it('says at synth what the existing key policy must let S3 do, since the stack cannot write it', () => {
    const infos = Annotations.fromStack(existingKeys.stack).findInfo('*', Match.stringLikeRegexp('key policy must let the services'));
    expect(infos).toHaveLength(1);
    const message = infos[0]!.entry.data as string;
    expect(message).toContain(STACK_KEY);
    const added = JSON.parse(message.slice(message.indexOf('Add: ') + 'Add: '.length)) as Statement[];
    expect(added).toEqual([expect.objectContaining({ Principal: { Service: 's3.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'] })]);
  });
});

describe('the default deployment', () => {
  it('has no customer key and no KMS permission beyond what it had', () => {
    plain.template.resourceCountIs('AWS::KMS::Key', 0);
    for (const queue of Object.values(plain.template.findResources('AWS::SQS::Queue'))) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    expect(kmsStatements(roleStatements(plain, 'WorkersTaskTaskRole'))).toEqual([]);
    expect(kmsStatements(roleStatements(plain, 'ReconcileTaskTaskRole'))).toEqual([]);
  });
});
