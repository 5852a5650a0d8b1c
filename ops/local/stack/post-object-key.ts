// PostObject (browser form upload) carries the key in a form field, not in the URL. This reads
// the fields the way fauxqs does: every field before the file part, `${filename}` substituted.

const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const DISPOSITION = /Content-Disposition:\s*form-data;\s*name="([^"]+)"(?:;\s*filename="([^"]*)")?/i;

export function postObjectKey(body: Buffer, contentType: string): string | undefined {
  const boundary = /boundary=([^\s;]+)/i.exec(contentType)?.[1];
  if (boundary === undefined) return undefined;
  let key: string | undefined;
  for (const part of formParts(body, Buffer.from(`--${boundary}`))) {
    const headerEnd = part.indexOf(HEADERS_END);
    if (headerEnd === -1) continue;
    const disposition = DISPOSITION.exec(part.subarray(0, headerEnd).toString('utf8'));
    if (!disposition) continue;
    const [, fieldName, filename] = disposition;
    if (filename !== undefined || fieldName === 'file') {
      return key?.replaceAll('${filename}', baseName(filename ?? ''));
    }
    if (fieldName === 'key') key = part.subarray(headerEnd + HEADERS_END.length).toString('utf8');
  }
  return key;
}

/** The parts between boundaries, without the CRLF that follows a boundary and precedes the next. */
function* formParts(body: Buffer, delimiter: Buffer): Generator<Buffer> {
  let start = body.indexOf(delimiter);
  while (start !== -1) {
    const end = body.indexOf(delimiter, start + delimiter.length);
    if (end === -1) return;
    let part = body.subarray(start + delimiter.length, end);
    if (part.subarray(0, CRLF.length).equals(CRLF)) part = part.subarray(CRLF.length);
    if (part.subarray(-CRLF.length).equals(CRLF)) part = part.subarray(0, -CRLF.length);
    yield part;
    start = end;
  }
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
