/**
 * Object tags as S3 carries them on the wire: the `x-amz-tagging` header of PutObject, CopyObject
 * and CreateMultipartUpload (`key1=value1&key2=value2`, URL-query-encoded), the `<Tagging>`
 * document of PutObjectTagging, and the document GetObjectTagging answers.
 */
import { elementsNamed, textOf } from './s3-protocol.ts';
import { escapeXmlText, xmlElement } from './xml-text.ts';

export interface Tag {
  readonly key: string;
  readonly value: string;
}

export type TagSet = readonly Tag[];

/** The tags of an `x-amz-tagging` header, in the order given (duplicates kept: the limits check refuses them). */
export function parseTaggingHeader(header: string): TagSet {
  return Array.from(new URLSearchParams(header), ([key, value]) => ({ key, value }));
}

/**
 * The tags of a PutObjectTagging body, or undefined when it is no `<Tagging><TagSet>` document or a
 * `<Tag>` lacks its `<Key>` or `<Value>` (S3 answers MalformedXML to both).
 */
export function parseTaggingDocument(xml: string): TagSet | undefined {
  const [tagging] = elementsNamed(xml, 'Tagging');
  if (tagging === undefined) return undefined;
  const [tagSet] = elementsNamed(tagging, 'TagSet');
  if (tagSet === undefined) return undefined;
  const tags: Tag[] = [];
  for (const tag of elementsNamed(tagSet, 'Tag')) {
    const key = textOf(tag, 'Key');
    const value = textOf(tag, 'Value');
    if (key === undefined || value === undefined) return undefined;
    tags.push({ key, value });
  }
  return tags;
}

const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** GetObjectTagging's answer, as S3 writes it. */
export function taggingDocumentXml(tags: TagSet): string {
  const tagElements = tags
    .map(({ key, value }) => xmlElement('Tag', xmlElement('Key', escapeXmlText(key)) + xmlElement('Value', escapeXmlText(value))))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="${S3_NAMESPACE}">${xmlElement('TagSet', tagElements)}</Tagging>`;
}
