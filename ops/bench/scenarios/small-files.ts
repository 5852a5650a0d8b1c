/** Scenario 5: many small files, one file at a time (MAX_FILES_IN_FLIGHT=1) against the default bound. */
import { PRODUCTION_CONFIG } from '../production-defaults.ts';
import type { BenchContext } from '../context.ts';
import type { SmallFilesFigures } from '../results.ts';
import { runSmallFiles } from './small-files-run.ts';

export async function measureSmallFiles(context: BenchContext): Promise<SmallFilesFigures> {
  context.progress('5 many small files');
  const oneAtATime = await runSmallFiles(context, {
    label: 'MAX_FILES_IN_FLIGHT=1',
    pipelineName: 'small-one',
    workers: 1,
    settings: { MAX_FILES_IN_FLIGHT: '1' },
  });
  const defaultBound = await runSmallFiles(context, {
    label: `MAX_FILES_IN_FLIGHT=${PRODUCTION_CONFIG.consumer.maxFilesInFlight} (default)`,
    pipelineName: 'small-default',
    workers: 1,
    settings: {},
    profiled: true,
  });
  return { oneAtATime, defaultBound, speedup: defaultBound.filesPerSecond / oneAtATime.filesPerSecond };
}
