/** The raw object version a file's outputs were made from: what the source action and the completion event name. */
export interface SourceVersion {
  readonly bucket: string;
  /** Exactly as stored in S3. */
  readonly key: string;
  /** Absent for an object in a bucket that was never versioned. */
  readonly versionId?: string | undefined;
  /** Without quotes. */
  readonly eTag: string;
}
