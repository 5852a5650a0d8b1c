/**
 * Several sweeps one after another (SOURCES: one per source), their counts added up. A sweep interrupted or
 * failed stops the run: the sweeps after it are not started.
 */
import { emptyTally, SweepError, type SourcePage, type SweepResult, type SweepTally } from './sweep.ts';
import type { SweepObject } from './sweep-object.ts';

export interface TargetTally<T> {
  readonly target: T;
  readonly tally: SweepTally;
}

export interface ManyResult<T> {
  /** Every sweep's counts added up. */
  readonly total: SweepTally;
  /** Each sweep started, in order, with its own counts. */
  readonly each: readonly TargetTally<T>[];
  readonly stoppedBy: 'done' | 'interrupted' | 'failed';
  /** The failed send that stopped the run. */
  readonly error?: SweepError;
}

/** `tally` added to `into`; the last key sent is the latest sweep's that sent one. Pure. */
export function addTally(into: SweepTally, tally: SweepTally): SweepTally {
  const outcomes = { ...into.outcomes };
  for (const [outcome, count] of Object.entries(tally.outcomes)) outcomes[outcome] = (outcomes[outcome] ?? 0) + count;
  return {
    listed: into.listed + tally.listed,
    excluded: into.excluded + tally.excluded,
    matched: into.matched + tally.matched,
    outcomes,
    sent: into.sent + tally.sent,
    lastSentKey: tally.lastSentKey ?? into.lastSentKey,
  };
}

/** Runs `sweepOne` on each target in turn; `before` is the counts of the sweeps before it (for progress). */
export async function sweepEach<T>(targets: readonly T[], sweepOne: (target: T, index: number, before: SweepTally) => Promise<SweepResult>): Promise<ManyResult<T>> {
  let total = emptyTally();
  const each: TargetTally<T>[] = [];
  for (const [index, target] of targets.entries()) {
    try {
      const { tally, interrupted } = await sweepOne(target, index, total);
      each.push({ target, tally });
      total = addTally(total, tally);
      if (interrupted) return { total, each, stoppedBy: 'interrupted' };
    } catch (error) {
      if (!(error instanceof SweepError)) throw error;
      each.push({ target, tally: error.tally });
      total = addTally(total, error.tally);
      return { total, each, stoppedBy: 'failed', error };
    }
  }
  return { total, each, stoppedBy: 'done' };
}

/** The pages with only the objects `keep` takes (a nested source's keys are left to that source's sweep). */
export async function* keptObjects(pages: AsyncIterable<SourcePage>, keep: (object: SweepObject) => boolean): AsyncGenerator<SourcePage> {
  for await (const page of pages) yield { ...page, objects: page.objects.filter(keep) };
}
