/** The CLI's own SDK clients for one command: created from the resolved connection, always destroyed. */
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../worker/common/aws-clients.ts';
import type { RetryOptions } from '../../worker/common/send-batches.ts';
import type { CliContext } from './context.ts';
import type { Connection } from './settings.ts';

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH']);

/** Names the endpoint when it cannot be reached at all, the usual mistake with --local. */
function explainUnreachable(error: unknown, connection: Connection): unknown {
  const code = unreachableCode(error);
  if (code === undefined) return error;
  const where = connection.aws.endpoint ?? `AWS in ${connection.aws.region}`;
  const hint = connection.local ? ' (is npm start running? LOCAL_EMULATOR_PORT moves its port)' : '';
  return new Error(`cannot reach ${where}: ${code}${hint}`, { cause: error });
}

/** The network error code of `error` or of what it wraps (the SDK wraps it: "AWS SDK error wrapper for Error: connect …"). */
function unreachableCode(error: unknown, depth = 0): string | undefined {
  if (typeof error !== 'object' || error === null || depth > 3) return undefined;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return code;
  return unreachableCode(cause, depth + 1);
}

export async function withAwsClients<T>(context: CliContext, connection: Connection, work: (clients: AwsClients) => Promise<T>): Promise<T> {
  const clients = createAwsClients(connection.aws);
  context.prepareClients?.(clients);
  try {
    return await work(clients);
  } catch (error) {
    throw explainUnreachable(error, connection);
  } finally {
    destroyAwsClients(clients);
  }
}

/** How sends retry the entries SQS did not take (see worker/common/send-batches.ts). */
export function sendRetry(context: CliContext): RetryOptions {
  return { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000, sleep: (ms) => context.clock.sleep(ms) };
}
