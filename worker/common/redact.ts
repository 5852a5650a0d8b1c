/**
 * What of a setting may be printed: a URL loses its password and its query string (where presigned
 * tokens live); anything that looks like userinfo in a string that is not a URL loses it too.
 */
export function redactForLog(value: string): string {
  const userinfo = /\/\/([^/@:\s]*):[^/@\s]*@/;
  const withoutQuery = (text: string) => text.replace(/\?.*$/s, '?…');
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    if (url.search) url.search = '';
    return value.includes('?') ? `${url.toString()}?…` : url.toString();
  } catch {
    return withoutQuery(value.replace(userinfo, '//$1:***@'));
  }
}
