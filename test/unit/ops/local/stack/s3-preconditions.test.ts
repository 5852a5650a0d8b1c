import { describe, expect, it } from '@jest/globals';
import {
  copySourcePreconditionError,
  deletePreconditionError,
  entityTagMatches,
  entityTagsOf,
} from '../../../../../ops/local/stack/s3-preconditions.ts';

const CURRENT = { eTag: '"0cc175b9c0f1b6a831c399e269772661"' };
const QUOTED = CURRENT.eTag;
const BARE = '0cc175b9c0f1b6a831c399e269772661';
const OTHER = '"92eb5ffee6ae2fec3ad71c777531578f"';

describe('entity tags of a conditional header', () => {
  it('reads a list of quoted, bare and weak tags, and * for any object', () => {
    expect(entityTagsOf('"a", W/"b" ,c')).toEqual(['a', 'b', 'c']);
    expect(entityTagsOf('"a", *')).toBe('*');
    expect(entityTagsOf('"abc-2"')).toEqual(['abc-2']);
  });

  it('matches the stored ETag whether the client quoted it or not, any listed tag, and *', () => {
    expect(entityTagMatches(QUOTED, CURRENT)).toBe(true);
    expect(entityTagMatches(BARE, CURRENT)).toBe(true);
    expect(entityTagMatches(`${OTHER}, ${QUOTED}`, CURRENT)).toBe(true);
    expect(entityTagMatches('*', CURRENT)).toBe(true);
    expect(entityTagMatches(OTHER, CURRENT)).toBe(false);
    expect(entityTagMatches('', CURRENT)).toBe(false);
  });
});

describe('DeleteObject If-Match', () => {
  it('lets the delete through when the header is absent, whether or not the object exists', () => {
    expect(deletePreconditionError({}, 'k', CURRENT)).toBeUndefined();
    expect(deletePreconditionError({}, 'k', undefined)).toBeUndefined();
  });

  it('lets the delete through when If-Match names the current ETag or is *', () => {
    expect(deletePreconditionError({ 'if-match': QUOTED }, 'k', CURRENT)).toBeUndefined();
    expect(deletePreconditionError({ 'if-match': '*' }, 'k', CURRENT)).toBeUndefined();
  });

  it('refuses with 412 PreconditionFailed naming If-Match when the ETag differs', () => {
    const error = deletePreconditionError({ 'if-match': OTHER }, 'k', CURRENT);
    expect(error).toMatchObject({
      code: 'PreconditionFailed',
      statusCode: 412,
      message: 'At least one of the pre-conditions you specified did not hold',
      details: { Condition: 'If-Match' },
    });
  });

  it('answers 404 NoSuchKey when the key holds no object, whatever If-Match names', () => {
    for (const ifMatch of [QUOTED, '*']) {
      expect(deletePreconditionError({ 'if-match': ifMatch }, 'dir/k', undefined)).toMatchObject({
        code: 'NoSuchKey',
        statusCode: 404,
        details: { Key: 'dir/k' },
      });
    }
  });
});

describe('CopyObject x-amz-copy-source-if-match / -if-none-match', () => {
  it('lets the copy through when the conditions hold or none is given', () => {
    expect(copySourcePreconditionError({}, CURRENT)).toBeUndefined();
    expect(copySourcePreconditionError({ 'x-amz-copy-source-if-match': QUOTED }, CURRENT)).toBeUndefined();
    expect(copySourcePreconditionError({ 'x-amz-copy-source-if-none-match': OTHER }, CURRENT)).toBeUndefined();
    expect(
      copySourcePreconditionError({ 'x-amz-copy-source-if-match': BARE, 'x-amz-copy-source-if-none-match': OTHER }, CURRENT),
    ).toBeUndefined();
  });

  it('refuses with 412 when if-match names another ETag, naming that header', () => {
    expect(copySourcePreconditionError({ 'x-amz-copy-source-if-match': OTHER }, CURRENT)).toMatchObject({
      code: 'PreconditionFailed',
      statusCode: 412,
      details: { Condition: 'x-amz-copy-source-If-Match' },
    });
  });

  it('refuses with 412 when if-none-match names the source ETag or is *', () => {
    for (const ifNoneMatch of [QUOTED, '*']) {
      expect(copySourcePreconditionError({ 'x-amz-copy-source-if-none-match': ifNoneMatch }, CURRENT)).toMatchObject({
        code: 'PreconditionFailed',
        statusCode: 412,
        details: { Condition: 'x-amz-copy-source-If-None-Match' },
      });
    }
  });

  it('leaves a missing source to the emulator (NoSuchKey)', () => {
    expect(copySourcePreconditionError({ 'x-amz-copy-source-if-match': QUOTED }, undefined)).toBeUndefined();
  });
});
