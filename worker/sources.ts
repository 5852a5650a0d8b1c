/**
 * The raw sources one queue may feed the worker: buckets and key prefixes, each with the prefix its outputs
 * take and the account that must own it. Pure: the SOURCES value in, sources out; an object's bucket and key
 * in, its source out.
 */
import { isJsonObject } from './common/json-object.ts';

export interface Source {
  /** A bucket name. */
  readonly bucket: string;
  /** Raw key prefix; '' = the whole bucket. */
  readonly prefix: string;
  /** Put before the raw key in every output key ('' = none). */
  readonly outputPrefix: string;
  /** 12-digit account id; when set, ExpectedBucketOwner goes on every S3 call to this bucket. */
  readonly expectedBucketOwner?: string;
}

const FIELDS = ['bucket', 'prefix', 'outputPrefix', 'expectedBucketOwner'] as const;

/**
 * S3's rules for general purpose bucket names, unanchored (the CDK settings also accept it inside an ARN): 3 to 63
 * lowercase letters, digits, dots and hyphens, a letter or digit at each end, no two dots in a row, not an IP address.
 */
export const BUCKET_NAME_PATTERN = /(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.source;
const BUCKET_NAME = new RegExp(`^${BUCKET_NAME_PATTERN}$`);
export const ACCOUNT_ID = /^\d{12}$/;
// Wildcards are refused because a reader may take them for patterns (IAM resources, S3 filter rules and EventBridge
// wildcards take a prefix literally); control characters hide in logs.
// eslint-disable-next-line no-control-regex
const UNSAFE_PREFIX_CHARACTERS = /[*?\u0000-\u001f\u007f]/;

/** A key prefix as a source may have one: '' (the whole bucket), or ending with "/", without * ? or control characters. */
export function isSourcePrefix(value: string): boolean {
  return !UNSAFE_PREFIX_CHARACTERS.test(value) && (value === '' || value.endsWith('/'));
}

/** The ExpectedBucketOwner parameter of an S3 call on a bucket that must be `owner`'s; spread it into the command's input. */
export function expectedOwnerParameter(owner: string | undefined): { readonly ExpectedBucketOwner?: string } {
  return owner === undefined ? {} : { ExpectedBucketOwner: owner };
}

/** Where an entry is in the list, for messages: "source 2 of 3 (bucket "b", prefix "p/")". */
function describe(index: number, count: number, source?: Pick<Source, 'bucket' | 'prefix'>): string {
  const where = source === undefined ? '' : ` (bucket "${source.bucket}", prefix "${source.prefix}")`;
  return `source ${index + 1} of ${count}${where}`;
}

function prefixField(entry: Readonly<Record<string, unknown>>, field: 'prefix' | 'outputPrefix', at: string): string {
  const value = entry[field] ?? '';
  if (typeof value !== 'string') throw new Error(`${at}: ${field} must be a string; got ${JSON.stringify(value)}`);
  if (UNSAFE_PREFIX_CHARACTERS.test(value)) {
    throw new Error(`${at}: ${field} must not hold "*", "?" or control characters; got ${JSON.stringify(value)}`);
  }
  if (value !== '' && !value.endsWith('/')) throw new Error(`${at}: ${field} must be empty or end with "/"; got ${JSON.stringify(value)}`);
  return value;
}

function parseEntry(entry: unknown, index: number, count: number): Source {
  const at = describe(index, count);
  if (!isJsonObject(entry)) throw new Error(`${at} must be an object {bucket, prefix?, outputPrefix?, expectedBucketOwner?}; got ${JSON.stringify(entry)}`);
  const unknown = Object.keys(entry).filter((field) => !(FIELDS as readonly string[]).includes(field));
  if (unknown.length > 0) throw new Error(`${at}: unknown field ${unknown.map((field) => `"${field}"`).join(', ')}; the fields are ${FIELDS.join(', ')}`);
  const { bucket, expectedBucketOwner } = entry;
  if (typeof bucket !== 'string' || !BUCKET_NAME.test(bucket)) {
    throw new Error(`${at}: bucket must be an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens); got ${JSON.stringify(bucket)}`);
  }
  const prefix = prefixField(entry, 'prefix', at);
  const outputPrefix = prefixField(entry, 'outputPrefix', at);
  if (expectedBucketOwner === undefined) return { bucket, prefix, outputPrefix };
  if (typeof expectedBucketOwner !== 'string' || !ACCOUNT_ID.test(expectedBucketOwner)) {
    throw new Error(`${at}: expectedBucketOwner must be a 12-digit AWS account id; got ${JSON.stringify(expectedBucketOwner)}`);
  }
  return { bucket, prefix, outputPrefix, expectedBucketOwner };
}

/**
 * Whether two sources' outputs can meet: every output key of a source starts with its outputPrefix + prefix, so two
 * sources whose such starts are prefixes one of the other may write the same key. Not when they share the bucket and
 * the output prefix: equal output keys then mean equal raw keys, which are one object of one source.
 */
export function outputsMayMeet(a: Pick<Source, 'bucket' | 'prefix' | 'outputPrefix'>, b: Pick<Source, 'bucket' | 'prefix' | 'outputPrefix'>): boolean {
  if (a.bucket === b.bucket && a.outputPrefix === b.outputPrefix) return false;
  const startA = a.outputPrefix + a.prefix;
  const startB = b.outputPrefix + b.prefix;
  return startA.startsWith(startB) || startB.startsWith(startA);
}

function checkApart(sources: readonly Source[]): void {
  const count = sources.length;
  sources.forEach((a, i) => {
    sources.slice(0, i).forEach((b, j) => {
      const pair = `${describe(j, count, b)} and ${describe(i, count, a)}`;
      if (a.bucket === b.bucket && a.prefix === b.prefix) throw new Error(`${pair} name the same bucket and prefix`);
      if (a.bucket === b.bucket && a.expectedBucketOwner !== undefined && b.expectedBucketOwner !== undefined && a.expectedBucketOwner !== b.expectedBucketOwner) {
        throw new Error(`${pair} expect different owners of one bucket (${b.expectedBucketOwner}, ${a.expectedBucketOwner})`);
      }
      if (a.bucket === b.bucket && a.outputPrefix === b.outputPrefix && (a.prefix.startsWith(b.prefix) || b.prefix.startsWith(a.prefix))) {
        throw new Error(`${pair} nest in one bucket with the same outputPrefix; one source with the shorter prefix covers both`);
      }
      if (outputsMayMeet(a, b)) {
        throw new Error(
          `${pair} could write the same output key ("${b.outputPrefix}" + a key under "${b.prefix}", "${a.outputPrefix}" + a key under "${a.prefix}"); give them outputPrefixes apart`,
        );
      }
    });
  });
}

/** Parses the SOURCES value: a JSON array of {bucket, prefix?, outputPrefix?, expectedBucketOwner?}. Throws an Error whose message says what is wrong (which entry, which field). */
export function parseSources(json: string): readonly Source[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(value) || value.length === 0) throw new Error('must be a non-empty JSON array of sources');
  const sources = value.map((entry, index) => parseEntry(entry, index, value.length));
  checkApart(sources);
  return sources;
}

/** The source an object belongs to: the listed source of that bucket with the longest prefix the key starts with; undefined when none. With `sources` undefined (SOURCES unset) every object belongs to {bucket, prefix:'', outputPrefix:''} (today's behaviour). */
export function sourceOf(sources: readonly Source[] | undefined, bucket: string, key: string): Source | undefined {
  if (sources === undefined) return { bucket, prefix: '', outputPrefix: '' };
  let found: Source | undefined;
  for (const source of sources) {
    if (source.bucket === bucket && key.startsWith(source.prefix) && (found === undefined || source.prefix.length > found.prefix.length)) found = source;
  }
  return found;
}
