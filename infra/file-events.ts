import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/** SNS's AWS managed key: the topic's encryption at rest. */
export const FILE_EVENTS_TOPIC_KEY_ALIAS = 'alias/aws/sns';

/**
 * The topic the worker publishes one completion event per file to (FILE_EVENTS_TOPIC_ARN). Subscribers are the
 * operator's to add (README, "Nothing missed"); nothing in the stack subscribes.
 *
 * Encrypted with SNS's AWS managed key rather than a key of the stack's own: only the worker, a role of this
 * account, publishes, which the managed key's policy allows to any principal of the account that may publish
 * (kms:ViaService sns, kms:CallerAccount); SNS decrypts before it delivers, so subscribers (an SQS queue of
 * this or another account, Lambda, HTTPS) need no key permission either. A customer key would cost a monthly
 * fee and a key policy to keep right, and buys only what this topic does not need: AWS services such as
 * CloudWatch or S3 as publishers, or a publisher in another account.
 */
export class FileEvents extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'IoT ingest: one event per processed file',
      masterKey: kms.Alias.fromAliasName(this, 'SnsManagedKey', FILE_EVENTS_TOPIC_KEY_ALIAS),
      // A topic policy that denies every request without TLS; it replaces SNS's default policy, so only
      // this account's IAM policies grant anything (the worker's sns:Publish, an administrator's Subscribe).
      enforceSSL: true,
    });
  }
}
