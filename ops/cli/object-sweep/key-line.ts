/** Keys as backfill and reconcile print them, one a line. Pure. */

/**
 * A key on a line of its own, as it is; as a JSON string (control characters escaped) when it holds a
 * control character, which could break the line or hide on a terminal, or starts with a quote.
 */
export function keyLine(key: string): string {
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u001f\u007f-\u009f]/.test(key) && !key.startsWith('"')) return key;
  return JSON.stringify(key).replace(/[\u007f-\u009f]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
