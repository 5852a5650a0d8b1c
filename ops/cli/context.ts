/**
 * Everything a command takes from the outside world, so that tests run commands in-process with
 * their own streams, environment, abort signal and SDK middleware.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AwsClients } from '../../worker/common/aws-clients.ts';
import type { Environment } from '../../worker/config.ts';
import type { ExitCode } from './exit-codes.ts';

export type { Environment };

export interface OutputStream {
  write(text: string | Uint8Array): boolean;
  once(event: 'drain', listener: () => void): unknown;
  readonly isTTY?: boolean;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface CliContext {
  readonly env: Environment;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Aborted on Ctrl-C: long commands stop after the batch in hand is safely done. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Where files a command names by default go (the `dlq drop` journal); process.cwd() when absent. */
  readonly cwd?: string;
  /** Called on the CLI's own SDK clients before use (tests add fault-injecting middleware). */
  readonly prepareClients?: (clients: AwsClients) => void;
}

/** What a command module receives: the outside world, and where to leave its exit code. */
export interface CommandHost {
  readonly context: CliContext;
  exit(code: ExitCode): void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    delay(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
      if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    }),
};
