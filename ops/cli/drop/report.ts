/** What `dlq drop` reports, as data and as lines, and the exit code it earns. Pure. */
import { contentLines, type DeadLetterDescription } from '../dead-letter-description.ts';
import { NO_RECORDED_REASON } from '../dead-letter-reasons.ts';
import { selectorText, type DeadLetterSelector } from '../dead-letter-selector.ts';
import { EXIT_CODES, type ExitCode } from '../exit-codes.ts';
import { messageCountText, plural } from '../format.ts';
import type { MessageCounts } from '../queue-snapshot.ts';
import type { DropOutcome } from './drop-messages.ts';

export interface DropReport {
  readonly dryRun: boolean;
  readonly dlqUrl: string;
  readonly selector: DeadLetterSelector;
  /** The DLQ when the command started. */
  readonly dlqBefore: MessageCounts;
  /** Deleted from the DLQ (0 with --dry-run). */
  readonly dropped: number;
  /** With --dry-run: how many would be. */
  readonly wouldDrop?: number;
  /** The messages dropped, or with --dry-run those that would be. */
  readonly messages: readonly DeadLetterDescription[];
  /** With --id: ids not found among the messages the DLQ held (visible) at the start. */
  readonly notFound?: readonly string[];
  readonly notSelected: number;
  readonly arrivedDuringRun: number;
  readonly stoppedBy: DropOutcome['stoppedBy'];
  /** Where the dropped messages are recorded; absent when nothing was dropped. */
  readonly journal?: string;
  /** The DLQ when the command ended. */
  readonly dlqAfter: MessageCounts;
  readonly error?: string;
}

export function dropReport(
  outcome: DropOutcome,
  run: { readonly dryRun: boolean; readonly dlqUrl: string; readonly selector: DeadLetterSelector; readonly dlqBefore: MessageCounts; readonly dlqAfter: MessageCounts },
): DropReport {
  const { selector } = run;
  const found = new Set(outcome.messages.map((message) => message.messageId));
  const notFound = selector.by === 'id' && outcome.stoppedBy === 'completed' ? selector.ids.filter((id) => !found.has(id)) : undefined;
  return {
    dryRun: run.dryRun,
    dlqUrl: run.dlqUrl,
    selector,
    dlqBefore: run.dlqBefore,
    dropped: run.dryRun ? 0 : outcome.messages.length,
    ...(run.dryRun ? { wouldDrop: outcome.messages.length } : {}),
    messages: outcome.messages,
    ...(notFound === undefined ? {} : { notFound }),
    notSelected: outcome.notSelected,
    arrivedDuringRun: outcome.arrivedDuringRun,
    stoppedBy: outcome.stoppedBy,
    ...(outcome.journal === undefined ? {} : { journal: outcome.journal }),
    dlqAfter: run.dlqAfter,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
  };
}

/** 0 done; 1 failed, or an id asked for was not there; 3 stopped early (Ctrl-C, or the receive bound): run again. */
export function dropExitCode(report: DropReport): ExitCode {
  if (report.stoppedBy === 'failed') return EXIT_CODES.failed;
  if (report.stoppedBy !== 'completed') return EXIT_CODES.partial;
  return (report.notFound?.length ?? 0) > 0 ? EXIT_CODES.failed : EXIT_CODES.ok;
}

/** One line per message: id, S3 object(s), recorded reason, receive count. */
export function droppedMessageLine(message: DeadLetterDescription): string {
  const reason = message.failure.by === 'worker' ? message.failure.reason : `${NO_RECORDED_REASON} (no recorded reason)`;
  const count = message.receiveCount === undefined ? '' : `  receive count ${message.receiveCount}`;
  return `  ${message.messageId}  ${contentLines(message.content).join(', ')}  reason ${reason}${count}`;
}

const ENDINGS: Record<DropReport['stoppedBy'], string | undefined> = {
  completed: undefined,
  limit: undefined,
  interrupted: 'interrupted (Ctrl-C): run the same command again to go on',
  'receive-budget': 'stopped at the bound on receives for this DLQ: run the same command again to go on',
  failed: 'failed: run the same command again once the cause is fixed; what was dropped is in the journal',
};

export function dropLines(report: DropReport): string[] {
  const what = selectorText(report.selector);
  const count = report.messages.length;
  const headline = report.dryRun
    ? `dry run: would drop ${plural(count, 'message')} (${what}) from ${report.dlqUrl}; nothing was deleted`
    : `dropped ${plural(count, 'message')} (${what}) from ${report.dlqUrl}`;
  const ending = ENDINGS[report.stoppedBy];
  const left = [
    report.notSelected > 0 ? `${report.notSelected} not selected` : undefined,
    report.arrivedDuringRun > 0 ? `${report.arrivedDuringRun} arrived during this run` : undefined,
  ].filter((part) => part !== undefined);
  return [
    headline,
    ...(report.journal === undefined ? [] : [`journal: ${report.journal} (id, body, attributes and reason of every dropped message)`]),
    ...report.messages.map(droppedMessageLine),
    ...(report.notFound !== undefined && report.notFound.length > 0
      ? [`not found: ${report.notFound.join(', ')} (not in the DLQ, or held in flight by another reader when this ran: see \`status\`)`]
      : []),
    ...(report.dlqBefore.inFlight > 0
      ? [`${plural(report.dlqBefore.inFlight, 'message')} in flight at the start (held by a worker, peek or redrive) could not be looked at`]
      : []),
    `the DLQ holds ${messageCountText(report.dlqAfter)} now${left.length > 0 ? ` (left alone: ${left.join(', ')})` : ''}`,
    ...(ending === undefined ? [] : [ending]),
  ];
}
