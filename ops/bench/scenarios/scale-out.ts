/** Scenario 6: the same small files with one worker process and with two on the same queue. */
import type { BenchContext } from '../context.ts';
import type { ScaleOutFigures } from '../results.ts';
import { runSmallFiles } from './small-files-run.ts';

export async function measureScaleOut(context: BenchContext): Promise<ScaleOutFigures> {
  context.progress('6 scale-out');
  const oneProcess = await runSmallFiles(context, { label: '1 worker process', pipelineName: 'scale-one', workers: 1, settings: {} });
  const twoProcesses = await runSmallFiles(context, { label: '2 worker processes', pipelineName: 'scale-two', workers: 2, settings: {} });
  return { oneProcess, twoProcesses, speedup: twoProcesses.filesPerSecond / oneProcess.filesPerSecond };
}
