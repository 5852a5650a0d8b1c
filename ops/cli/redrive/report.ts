/** What `redrive` reports, as data and as lines. Pure. */
import { describeLines } from '../dead-letter-description.ts';
import { selectorText, type DeadLetterSelector } from '../dead-letter-selector.ts';
import { messageCountText, plural } from '../format.ts';
import type { MessageCounts } from '../queue-snapshot.ts';
import type { RedriveMethod } from './method.ts';
import type { StopReason } from './client-side.ts';
import { failingAgainByReason, type RedriveCandidate } from './dry-run.ts';

export interface RedriveReport {
  readonly dryRun: boolean;
  readonly method: RedriveMethod;
  readonly methodReason: string;
  readonly dlqUrl: string;
  readonly destinationUrl: string;
  /** Which messages are to move: `all`, or `reason` with --reason. */
  readonly selector: DeadLetterSelector;
  /** The DLQ when the command started (visible + in flight + delayed). */
  readonly dlqBefore: MessageCounts;
  readonly moved: number;
  readonly sent?: number;
  readonly finishedFromJournal?: number;
  readonly arrivedDuringRun?: number;
  /** In the DLQ at the start, not selected by --reason, and left there. */
  readonly notSelected?: number;
  readonly stoppedBy: StopReason | 'failed';
  readonly journal?: string;
  readonly moveTaskStatus?: string;
  /** The DLQ when the command ended: messages dead-lettered again, not selected, or new. Absent on a dry run. */
  readonly dlqAfter?: MessageCounts;
  readonly wouldMove?: number;
  /** With --dry-run: how many of those would fail again unless something changed. */
  readonly wouldFailAgain?: number;
  readonly messages?: readonly RedriveCandidate[];
  readonly error?: string;
}

/** The dry run lists this many messages as text; --json lists them all. */
export const DRY_RUN_LISTED = 20;

const STOPPED_EARLY: Partial<Record<RedriveReport['stoppedBy'], string>> = {
  limit: 'stopped at --limit',
  interrupted: 'interrupted: run the same command again to go on',
  'receive-budget': 'stopped at the bound on receives for this DLQ: run the same command again to go on',
  failed: 'failed: run the same command again once the cause is fixed; nothing is lost',
};

function candidateLines(candidate: RedriveCandidate): string[] {
  const verdict =
    candidate.failure.by === 'worker' && candidate.willFailAgain
      ? `  redrive: WILL FAIL AGAIN (${candidate.failure.reason} is permanent): fix the cause first, or \`dlq drop\` it`
      : '  redrive: worth it (a transient failure)';
  return [...describeLines(candidate), verdict];
}

function dryRunLines(report: RedriveReport, header: string): string[] {
  const listed = report.messages ?? [];
  const failing = failingAgainByReason(listed);
  const wouldMove = report.wouldMove ?? listed.length;
  const failingText =
    (report.wouldFailAgain ?? 0) === 0
      ? 'none of them will fail again for a recorded permanent reason'
      : `${report.wouldFailAgain} will fail again unless something changed (${failing.map(([reason, count]) => `${reason} ${count}`).join(', ')})`;
  const selection = report.selector.by === 'all' ? '' : ` (${selectorText(report.selector)})`;
  return [
    `dry run: would move ${wouldMove}${selection} of the DLQ's ${messageCountText(report.dlqBefore)}; ${failingText}; nothing was changed`,
    header,
    ...(report.notSelected ? [`not selected: ${plural(report.notSelected, 'message')}`] : []),
    ...listed.slice(0, DRY_RUN_LISTED).flatMap((candidate) => ['', ...candidateLines(candidate)]),
    ...(listed.length > DRY_RUN_LISTED ? ['', `… and ${listed.length - DRY_RUN_LISTED} more (--json lists them all)`] : []),
  ];
}

/** Where the DLQ stands after the run: never "drained" while messages are in it. */
function afterText(report: RedriveReport): string {
  const after = report.dlqAfter;
  if (after === undefined) return '';
  if (after.messages === 0) return 'the DLQ is empty now';
  const why = [
    report.notSelected ? `${report.notSelected} not selected` : undefined,
    report.arrivedDuringRun ? `${report.arrivedDuringRun} dead-lettered again or newly during this run` : undefined,
  ].filter((part) => part !== undefined);
  return `the DLQ holds ${messageCountText(after)} now${why.length > 0 ? ` (${why.join(', ')})` : ''}: \`dlq peek\` shows them`;
}

export function redriveLines(report: RedriveReport): string[] {
  const header = `method ${report.method} (${report.methodReason}); ${report.dlqUrl} -> ${report.destinationUrl}`;
  if (report.dryRun) return dryRunLines(report, header);
  const detail =
    report.sent === undefined ? '' : ` (${report.sent} sent now, ${report.finishedFromJournal ?? 0} sent by an earlier run and deleted now)`;
  const ending = [
    report.moveTaskStatus === undefined ? undefined : `move task ${report.moveTaskStatus}`,
    STOPPED_EARLY[report.stoppedBy],
    afterText(report) || undefined,
  ].filter((part) => part !== undefined);
  return [
    `moved ${plural(report.moved, 'message')}${report.selector.by === 'all' ? '' : ` with ${selectorText(report.selector)}`}${detail}; ${ending.join('; ')}`,
    header,
    ...(report.journal === undefined ? [] : [`journal: ${report.journal}`]),
  ];
}
