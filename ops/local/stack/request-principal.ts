/** The principal S3 names in `userIdentity`: the access key that signed the request, header or presigned URL. */
export function principalIdOf(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  query: Readonly<Record<string, unknown>>,
): string {
  const authorization = headers['authorization'];
  const fromHeader = typeof authorization === 'string' ? /Credential=([^/,\s]+)\//.exec(authorization)?.[1] : undefined;
  const presigned = query['X-Amz-Credential'];
  const fromQuery = typeof presigned === 'string' ? presigned.split('/')[0] : undefined;
  const accessKeyId = fromHeader ?? fromQuery;
  return accessKeyId ? `AWS:${accessKeyId}` : 'Anonymous';
}
