import { describe, expect, it } from '@jest/globals';
import { parseTaggingDocument, parseTaggingHeader, taggingDocumentXml } from '../../../../../ops/local/stack/object-tags.ts';

describe('x-amz-tagging header', () => {
  it('reads URL-query-encoded tags in order, decoding %XX and + as S3 does, and keeps duplicates for the limits check to refuse', () => {
    expect(parseTaggingHeader('iot-ingest=processed&a%26b=x%3Dy+z&%C3%BC%E6%B8%A9=&same=1&same=2')).toEqual([
      { key: 'iot-ingest', value: 'processed' },
      { key: 'a&b', value: 'x=y z' },
      { key: 'ü温', value: '' },
      { key: 'same', value: '1' },
      { key: 'same', value: '2' },
    ]);
    expect(parseTaggingHeader('')).toEqual([]);
  });
});

describe('PutObjectTagging document', () => {
  it('reads the tag set the SDK and the AWS CLI send, entities and empty values included', () => {
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>' +
      '<Tag><Key>a&amp;b &lt;c&gt;</Key><Value>&quot;x&quot; &#252;</Value></Tag><Tag><Key>empty</Key><Value/></Tag>' +
      '</TagSet></Tagging>';

    expect(parseTaggingDocument(xml)).toEqual([
      { key: 'a&b <c>', value: '"x" ü' },
      { key: 'empty', value: '' },
    ]);
    expect(parseTaggingDocument('<Tagging><TagSet></TagSet></Tagging>')).toEqual([]);
    expect(parseTaggingDocument('<Tagging><TagSet/></Tagging>')).toEqual([]);
  });

  it('finds no tag set in what is not a Tagging document, or in a Tag without its Key or Value (S3: MalformedXML)', () => {
    expect(parseTaggingDocument('')).toBeUndefined();
    expect(parseTaggingDocument('not xml')).toBeUndefined();
    expect(parseTaggingDocument('<Tagging></Tagging>')).toBeUndefined();
    expect(parseTaggingDocument('<TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet>')).toBeUndefined();
    expect(parseTaggingDocument('<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>')).toBeUndefined();
    expect(parseTaggingDocument('<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>')).toBeUndefined();
  });
});

describe('GetObjectTagging document', () => {
  it("writes S3's document, in S3's namespace, that reads back as the same tags, every character intact", () => {
    const tags = [
      { key: 'a&b <c>', value: `"x" 'y' ü温` },
      { key: 'line\r\nbreak', value: '' },
    ];

    const xml = taggingDocumentXml(tags);

    expect(xml).toContain('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a&amp;b &lt;c&gt;</Key>');
    expect(parseTaggingDocument(xml)).toEqual(tags);
    expect(taggingDocumentXml([])).toMatch(/<Tagging xmlns="[^"]+"><TagSet><\/TagSet><\/Tagging>$/);
  });
});
