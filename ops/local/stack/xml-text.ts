/** The few XML building blocks the query-protocol answers need: escaped text and elements. */

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // A parser turns a literal CR (and CR LF) in text into LF; as a reference it comes back as sent.
  '\r': '&#xD;',
};

/** `text` as XML character data, every character coming back from a parser as it was. */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>"'\r]/g, (character) => ESCAPES[character] ?? character);
}

/** `<name>content</name>`, `content` being XML already. */
export function xmlElement(name: string, content: string): string {
  return `<${name}>${content}</${name}>`;
}

/** `<name>text</name>` with `text` escaped; nothing when there is no text to write. */
export function xmlTextElement(name: string, text: string | undefined): string {
  return text === undefined ? '' : xmlElement(name, escapeXmlText(text));
}
