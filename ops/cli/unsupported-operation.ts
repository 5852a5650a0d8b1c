/**
 * Whether an SDK error means "this endpoint does not have that API" (fauxqs answers InvalidAction for
 * StartMessageMoveTask, ListMessageMoveTasks and ListDeadLetterSourceQueues), as opposed to a call
 * that the API refused.
 */
const UNSUPPORTED_NAMES = new Set(['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented']);

export function isUnsupportedOperation(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return UNSUPPORTED_NAMES.has(error.name) || /unknown action|not implemented|unsupported operation/i.test(error.message) || status === 501;
}
