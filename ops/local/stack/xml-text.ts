// Just enough XML for the small, flat documents of the S3 bucket notification API: the SDK and
// the AWS CLI send no namespaces prefixes, CDATA or nested same-name elements there.

const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as const;
const ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));/g;
const ESCAPED = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' } as const;

export function unescapeXml(text: string): string {
  return text.replace(ENTITY, (_match, decimal?: string, hex?: string, name?: keyof typeof NAMED_ENTITIES) => {
    if (name !== undefined) return NAMED_ENTITIES[name];
    return String.fromCodePoint(decimal !== undefined ? Number(decimal) : Number.parseInt(hex ?? '0', 16));
  });
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPED[character as keyof typeof ESCAPED]);
}

/** The raw inner XML of every `<name>` element, in document order (`<name/>` gives ''). */
export function elementsNamed(xml: string, name: string): string[] {
  const element = new RegExp(`<${name}(?:\\s[^>]*)?(?:/>|>([\\s\\S]*?)</${name}\\s*>)`, 'g');
  return Array.from(xml.matchAll(element), (match) => match[1] ?? '');
}

/** The unescaped text of the first `<name>` element, or undefined when there is none. */
export function textOf(xml: string, name: string): string | undefined {
  const [inner] = elementsNamed(xml, name);
  return inner === undefined ? undefined : unescapeXml(inner);
}
