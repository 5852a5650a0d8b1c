/** The provenance an existing output carries (HeadObject), or undefined when there is no such object or it has none. */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isObjectMissing } from '../errors.ts';
import { readProvenance, type Provenance } from '../common/provenance.ts';
import type { ObjectLocation } from './output-keys.ts';

export async function outputProvenance(s3: S3Client, output: ObjectLocation, signal: AbortSignal): Promise<Provenance | undefined> {
  try {
    const head = await s3.send(new HeadObjectCommand({ Bucket: output.bucket, Key: output.key }), { abortSignal: signal });
    return readProvenance(head.Metadata);
  } catch (error) {
    if (isObjectMissing(error)) return undefined;
    throw error;
  }
}
