import { Annotations, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { EncryptionKeySetting } from './settings.ts';


/** AWS services that deliver to the queues and so call KMS with the queue key on their own behalf. */
export type DeliveringService = 's3.amazonaws.com' | 'events.amazonaws.com';

/**
 * What an SQS principal needs of the queue key: a consumer decrypts; a producer generates the data key and, as
 * SQS reuses a cached one, decrypts it too (the SQS developer guide's key management page).
 */
const QUEUE_KEY_ACTIONS = { consume: ['kms:Decrypt'], send: ['kms:GenerateDataKey', 'kms:Decrypt'] } as const;
/** GetObject decrypts; PutObject generates a data key, and a multipart upload or a copy decrypts as well. */
const OBJECT_KEY_ACTIONS = { read: ['kms:Decrypt'], write: ['kms:GenerateDataKey', 'kms:Decrypt'] } as const;

export type QueueKeyUse = keyof typeof QUEUE_KEY_ACTIONS;
export type ObjectKeyUse = keyof typeof OBJECT_KEY_ACTIONS;

function actionsFor<Use extends string>(table: Readonly<Record<Use, readonly string[]>>, uses: readonly Use[]): string[] {
  return [...new Set(uses.flatMap((use) => table[use]))].sort();
}

/**
 * A role's use of the queue key, only through SQS: the role cannot decrypt anything else encrypted with the key.
 * The queues are the stack's own, so the key is in the stack's region.
 */
export function queueKeyStatement(sid: string, key: kms.IKey, uses: readonly QueueKeyUse[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: actionsFor(QUEUE_KEY_ACTIONS, uses),
    resources: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(key).region}.amazonaws.com` } },
  });
}

/**
 * A role's use of a key that encrypts S3 objects, only through S3. Any region's S3: a bucket of another account
 * or an existing one may live elsewhere, and the key is where its bucket is.
 */
export function objectKeyStatement(sid: string, keyArns: readonly string[], uses: readonly ObjectKeyUse[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    actions: actionsFor(OBJECT_KEY_ACTIONS, uses),
    resources: [...new Set(keyArns)],
    conditions: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } },
  });
}

/**
 * The key policy statement that lets S3 or EventBridge deliver to a queue encrypted with the key, as the S3 and
 * EventBridge guides give it. No condition narrows it: the services call KMS on their own behalf, and what they
 * may deliver to the queues is the queue policy's to say (notifications.ts, object-created-events.ts).
 */
export function deliveryKeyPolicyStatement(service: DeliveringService): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: `Deliver${service.startsWith('s3') ? 'S3Notifications' : 'EventBridgeEvents'}ToQueues`,
    principals: [new iam.ServicePrincipal(service)],
    actions: actionsFor(QUEUE_KEY_ACTIONS, ['send']),
    resources: ['*'],
  });
}

export interface EncryptionProps {
  readonly setting: EncryptionKeySetting;
}

/**
 * The customer key that encrypts the buckets the stack creates and its queues, or none (aws-managed). A key the
 * stack creates gets the delivering services in its key policy; an existing key's policy is its owner's, so the
 * statements they must add are said at synth (info, as for existing buckets).
 */
export class Encryption extends Construct {
  readonly key: kms.IKey | undefined;
  private readonly setting: EncryptionKeySetting;

  constructor(scope: Construct, id: string, props: EncryptionProps) {
    super(scope, id);
    this.setting = props.setting;
    if (props.setting === 'aws-managed') {
      this.key = undefined;
    } else if (props.setting === 'create') {
      this.key = new kms.Key(this, 'Key', {
        description: `Encrypts the raw and processed buckets and the queues of ${Stack.of(this).stackName}`,
        enableKeyRotation: true,
        // The buckets are kept when the stack is deleted (storage.ts): so must be the key that decrypts them.
        removalPolicy: RemovalPolicy.RETAIN,
      });
    } else {
      this.key = kms.Key.fromKeyArn(this, 'Key', props.setting);
    }
  }

  /** Lets the services that deliver messages to the queues (notifications.ts) use the key. */
  allowDelivery(services: readonly DeliveringService[]): void {
    if (this.key === undefined || services.length === 0) return;
    const statements = services.map(deliveryKeyPolicyStatement);
    if (this.key instanceof kms.Key) {
      for (const statement of statements) this.key.addToResourcePolicy(statement);
      return;
    }
    const policy = JSON.stringify(Stack.of(this).resolve(statements.map((statement) => statement.toStatementJson() as unknown)));
    Annotations.of(this).addInfo(
      `The key ${this.setting} is used as it is: its key policy must let the services that deliver to the queues use it. Add: ${policy}`,
    );
  }
}

/** The customer keys of what the worker and reconcile touch; all empty with AWS-managed encryption everywhere. */
export interface DataKeys {
  /** The queues' key; undefined with SQS-managed encryption. */
  readonly queueKey: kms.IKey | undefined;
  /** The keys that encrypt raw objects: the stack's key for a raw bucket it creates, and each source's kmsKeyArn. */
  readonly rawObjectKeyArns: readonly string[];
  /** The key outputs are encrypted with: the stack's key for a processed bucket it creates, or the existing one's. */
  readonly processedObjectKeyArn: string | undefined;
}

/**
 * The worker's use of the keys: it receives from the ingest queue and sends to the DLQ, reads raw objects (and in
 * move mode copies them to the archive, in their own bucket and under its key), and writes outputs in parts.
 */
export function workerKeyStatements(keys: DataKeys, copiesRawObjects: boolean): iam.PolicyStatement[] {
  return [
    ...(keys.queueKey ? [queueKeyStatement('UseQueueKey', keys.queueKey, ['consume', 'send'])] : []),
    ...(keys.rawObjectKeyArns.length > 0 ? [objectKeyStatement('DecryptRawObjects', keys.rawObjectKeyArns, copiesRawObjects ? ['read', 'write'] : ['read'])] : []),
    ...(keys.processedObjectKeyArn ? [objectKeyStatement('EncryptOutputObjects', [keys.processedObjectKeyArn], ['write'])] : []),
  ];
}

/** Reconcile only sends to the ingest queue: it lists objects and reads outputs' metadata, which no key guards. */
export function reconcileKeyStatements(keys: DataKeys): iam.PolicyStatement[] {
  return keys.queueKey ? [queueKeyStatement('SendWithQueueKey', keys.queueKey, ['send'])] : [];
}
