/**
 * ExpectedBucketOwner for the buckets that name their owner (a source in another account, or
 * --expected-bucket-owner): S3 refuses the call (403) when another account owns the bucket, so a
 * bucket name taken over elsewhere is never read nor trusted. Pure.
 */
import { expectedOwnerParameter } from '../../../worker/sources.ts';

/** Bucket name → the 12-digit account that must own it; buckets without an entry carry no ExpectedBucketOwner. */
export type BucketOwners = ReadonlyMap<string, string>;

export const NO_OWNERS: BucketOwners = new Map();

/** The ExpectedBucketOwner parameter for a call on `bucket`: spread it into the command's input. */
export function ownerOf(owners: BucketOwners, bucket: string): { readonly ExpectedBucketOwner?: string } {
  return expectedOwnerParameter(owners.get(bucket));
}
