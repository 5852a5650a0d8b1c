import { Annotations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { bucketNameOf } from './settings.ts';

/**
 * A bucket of the account, by name or by ARN (settings.ts validated it). The stack grants its roles access to the
 * bucket's objects and reads its EventBridge events; it never writes the bucket's own configuration.
 */
export function importBucket(scope: Construct, id: string, reference: string): s3.IBucket {
  return reference.startsWith('arn:') ? s3.Bucket.fromBucketArn(scope, id, reference) : s3.Bucket.fromBucketName(scope, id, reference);
}

/** Where the README tells what to do on an existing bucket. */
export const ADOPTING_SECTION = 'README, "Adopting it in an existing account"';

/**
 * Says at synth which of the stack's bucket settings an existing bucket does not get, and what the stack relies on
 * its owner to do. An info annotation: `cdk synth` prints it, and unlike a warning it does not fail the strict
 * synth (build-app.ts) that the user's own choice of an existing bucket must pass.
 */
export function announceLeftAlone(bucket: s3.IBucket, reference: string, skipped: readonly string[], ownerMustDo?: string): void {
  const todo = ownerMustDo === undefined ? '' : ` Its owner must ${ownerMustDo} (${ADOPTING_SECTION}).`;
  Annotations.of(bucket).addInfo(`Existing bucket ${bucketNameOf(reference)} is used as it is; skipped: ${skipped.join(', ')}.${todo}`);
}
