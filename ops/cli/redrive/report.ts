/** What `redrive` reports, as data and as lines. */
import { describeLines, type DeadLetterDescription } from '../dead-letter-description.ts';
import { plural } from '../format.ts';
import type { RedriveMethod } from './method.ts';
import type { StopReason } from './client-side.ts';

export interface RedriveReport {
  readonly dryRun: boolean;
  readonly method: RedriveMethod;
  readonly methodReason: string;
  readonly dlqUrl: string;
  readonly destinationUrl: string;
  /** ApproximateNumberOfMessages of the DLQ when the command started. */
  readonly dlqVisibleBefore: number;
  readonly moved: number;
  readonly sent?: number;
  readonly finishedFromJournal?: number;
  readonly arrivedDuringRun?: number;
  readonly stoppedBy: StopReason | 'failed';
  readonly journal?: string;
  readonly moveTaskStatus?: string;
  readonly wouldMove?: number;
  readonly messages?: readonly DeadLetterDescription[];
  readonly error?: string;
}

const ENDINGS: Record<RedriveReport['stoppedBy'], string> = {
  drained: 'the DLQ is drained',
  limit: 'stopped at --limit',
  interrupted: 'interrupted: run the same command again to go on',
  failed: 'failed: run the same command again once the cause is fixed; nothing is lost',
};

export function redriveLines(report: RedriveReport): string[] {
  const header = `method ${report.method} (${report.methodReason}); ${report.dlqUrl} -> ${report.destinationUrl}`;
  if (report.dryRun) {
    const listed = report.messages ?? [];
    return [
      `dry run: would move ${report.wouldMove ?? 0} of ~${plural(report.dlqVisibleBefore, 'visible message')}; nothing was changed`,
      header,
      ...listed.flatMap((message) => ['', ...describeLines(message)]),
    ];
  }
  const detail =
    report.sent === undefined ? '' : ` (${report.sent} sent now, ${report.finishedFromJournal ?? 0} sent by an earlier run and deleted now)`;
  return [
    `moved ${plural(report.moved, 'message')}${detail}; ${report.moveTaskStatus === undefined ? ENDINGS[report.stoppedBy] : `move task ${report.moveTaskStatus}`}`,
    header,
    ...(report.arrivedDuringRun ? [`left in the DLQ: ${plural(report.arrivedDuringRun, 'message')} dead-lettered again during this run`] : []),
    ...(report.journal === undefined ? [] : [`journal: ${report.journal}`]),
  ];
}
