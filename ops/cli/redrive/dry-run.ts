/**
 * `redrive --dry-run`: the messages a redrive would move, each marked with whether it will fail again
 * unless something changed first (a permanent reason recorded by the worker). Holds them hidden while
 * listing and makes them visible again at once (ops/cli/dead-letter-scan.ts); moves nothing.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { describeDeadLetter, type DeadLetterDescription } from '../dead-letter-description.ts';
import { recordedReasonOf, willFailAgain } from '../dead-letter-reasons.ts';
import { scanDeadLetterQueue, type ScanEnding } from '../dead-letter-scan.ts';

export type RedriveCandidate = DeadLetterDescription & {
  /** A permanent reason is recorded: redriven as it is, it fails the same way. */
  readonly willFailAgain: boolean;
};

export interface DryRunOptions {
  readonly dlqUrl: string;
  readonly select: (message: Message) => boolean;
  readonly limit: number | undefined;
  readonly startedAtMs: number;
  readonly signal: AbortSignal;
  readonly maxReceives: number;
}

export interface DryRunListing {
  readonly candidates: readonly RedriveCandidate[];
  readonly notSelected: number;
  readonly arrivedDuringRun: number;
  readonly stoppedBy: ScanEnding;
}

export function redriveCandidate(message: Message): RedriveCandidate {
  return { ...describeDeadLetter(message), willFailAgain: willFailAgain(recordedReasonOf(message)) };
}

export async function listRedriveCandidates(sqs: SQSClient, options: DryRunOptions): Promise<DryRunListing> {
  const candidates: RedriveCandidate[] = [];
  const scan = await scanDeadLetterQueue(
    sqs,
    {
      dlqUrl: options.dlqUrl,
      select: options.select,
      startedAtMs: options.startedAtMs,
      signal: options.signal,
      maxReceives: options.maxReceives,
      nextBatchSize: () => (options.limit ?? Infinity) - candidates.length,
    },
    (batch) => {
      candidates.push(...batch.map(redriveCandidate));
      return Promise.resolve(batch);
    },
  );
  return { candidates, notSelected: scan.notSelected, arrivedDuringRun: scan.arrivedDuringRun, stoppedBy: scan.stoppedBy };
}

/** How many candidates will fail again, by recorded reason, most first. */
export function failingAgainByReason(candidates: readonly RedriveCandidate[]): Array<readonly [string, number]> {
  const counts = new Map<string, number>();
  for (const candidate of candidates) {
    if (!candidate.willFailAgain || candidate.failure.by !== 'worker') continue;
    counts.set(candidate.failure.reason, (counts.get(candidate.failure.reason) ?? 0) + 1);
  }
  return [...counts.entries()].sort(([a, left], [b, right]) => right - left || a.localeCompare(b));
}
