/** What `reconcile` prints: one JSON line with --json (a CloudWatch metric filter reads `missing` from it), else lines for people. Pure. */
import { emptyTally, type SweepTally } from '../object-sweep/sweep.ts';
import { RECONCILE_REASONS } from './classify.ts';
import { UNPROCESSABLE } from './output-check.ts';

export interface ReconcileReport {
  readonly listed: number;
  /** Listed but left out: --exclude-prefix, and the move mode's archive when SOURCE_AFTER_SUCCESS=move. */
  readonly excluded: number;
  readonly matched: number;
  readonly current: number;
  readonly missing: number;
  readonly stale: number;
  readonly incomplete: number;
  /** Keys the worker refuses (an output key that would collide or be too long): never sent. */
  readonly unprocessable: number;
  readonly sent: number;
  readonly dryRun: boolean;
  /** What was swept: `s3://raw/prefix` or the inventory manifest's URL. */
  readonly source: string;
  /** --since, resolved. */
  readonly modifiedAfter?: string;
  readonly stoppedBy: 'done' | 'interrupted' | 'failed';
  readonly error?: string;
  /** With SOURCES: each source swept (those after an interruption or failure are absent), its own counts; the counts above are their sums. */
  readonly sources?: readonly SourceCounts[];
}

export type ReportCounts = Pick<ReconcileReport, 'listed' | 'excluded' | 'matched' | 'current' | 'missing' | 'stale' | 'incomplete' | 'unprocessable' | 'sent'>;

/** One source's counts: `source` is what was listed, s3://bucket/prefix. */
export interface SourceCounts extends ReportCounts {
  readonly source: string;
}

export function reportCounts(tally: SweepTally): ReportCounts {
  const count = (outcome: string) => tally.outcomes[outcome] ?? 0;
  const [missing, stale, incomplete] = RECONCILE_REASONS.map(count);
  return {
    listed: tally.listed,
    excluded: tally.excluded,
    matched: tally.matched,
    current: count('current'),
    missing: missing ?? 0,
    stale: stale ?? 0,
    incomplete: incomplete ?? 0,
    unprocessable: count(UNPROCESSABLE),
    sent: tally.sent,
  };
}

/** A run that failed before it swept anything (a bucket or queue that does not exist, no endpoint): still one summary, all counts 0. */
export function failedBeforeSweep(run: Pick<ReconcileReport, 'dryRun' | 'source'>, error: string): ReconcileReport {
  return { ...reportCounts(emptyTally()), ...run, stoppedBy: 'failed', error };
}

export function summaryLines(report: ReconcileReport, stateFile: string | undefined): string[] {
  const needing = report.missing + report.stale + report.incomplete;
  const counts =
    `listed ${report.listed}${report.excluded > 0 ? `, excluded ${report.excluded}` : ''}, matched ${report.matched}: current ${report.current}, missing ${report.missing}, stale ${report.stale}, ` +
    `incomplete ${report.incomplete}${report.unprocessable > 0 ? `, unprocessable ${report.unprocessable} (the worker refuses these keys)` : ''}`;
  const first = report.dryRun
    ? `dry run: ${counts}; would send ${needing}${needing > 0 ? ' (the keys above)' : ''}; nothing was sent`
    : `${counts}; sent ${report.sent}${report.sent > 0 ? ' (the keys above)' : ''}`;
  const lines = [first, `checked ${report.source}${report.modifiedAfter === undefined ? '' : ` modified after ${report.modifiedAfter}`}`];
  for (const source of report.sources ?? []) {
    const sent = report.dryRun ? `would send ${source.missing + source.stale + source.incomplete}` : `sent ${source.sent}`;
    lines.push(`  ${source.source}: listed ${source.listed}${source.excluded > 0 ? `, excluded ${source.excluded}` : ''}, matched ${source.matched}, ${sent}`);
  }
  if (report.stoppedBy !== 'done') {
    lines.push(stateFile === undefined ? `${report.stoppedBy}: run the same command again (objects already re-enqueued are checked again; add --state FILE to go on where it stopped)` : `${report.stoppedBy}: run the same command again to go on after the last key handled (${stateFile})`);
  }
  return lines;
}
