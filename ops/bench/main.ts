/**
 * `npm run bench -- [--quick] [--only N,N] [--records N] [--gzip] [--json FILE] [--results FILE] [--cpu-prof DIR]`:
 * the pipeline's performance, every comparison measured in one run on the same generated data, against
 * the production worker (dist/worker/main.js with the container's NODE_ENV and NODE_OPTIONS) and the
 * emulator, each in a child process of its own so that the worker's CPU time and peak RSS come from
 * /proc for it alone. Prints a table, with each target met or not met; a standard run (every scenario,
 * default sizes) also writes it to RESULTS.md, --results to the file given; --json writes every figure.
 * Exits 0 when every scenario ran (met or not), 1 when one failed, 2 on a bad command line. Loopback
 * only; every wait bounded; every child killed on any exit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { errorMessage } from '../../worker/common/error-message.ts';
import { killTrackedChildren, killTrackedChildrenOnExit } from '../local/child-processes.ts';
import { compileForBench } from './build.ts';
import { openBenchContext, type BenchContext } from './context.ts';
import { BenchUsageError, parseBenchOptions, SCENARIOS, USAGE, type ScenarioId } from './options.ts';
import { renderCpuProfile, renderLoads, renderReport, type RunDescription } from './report.ts';
import { loadSnapshot, otherLoadBetween } from './process-stats.ts';
import { renderResultsMarkdown } from './results-file.ts';
import type { BenchResults, ScenarioLoad } from './results.ts';
import { measureCompressedInput } from './scenarios/compressed-input.ts';
import { measureComputeFloor } from './scenarios/compute-floor.ts';
import { measureIoFloor } from './scenarios/io-floor.ts';
import { measureLargeFile } from './scenarios/large-file.ts';
import { measureLatency } from './scenarios/latency.ts';
import { measureManyLargeFiles } from './scenarios/many-large-files.ts';
import { measureMemoryGrowth } from './scenarios/memory-growth.ts';
import { measureNaiveBaseline } from './scenarios/naive.ts';
import { measureNpmStart } from './scenarios/npm-start.ts';
import { measureParquetWriter } from './scenarios/parquet-writer.ts';
import { measureRequestLatency } from './scenarios/request-latency.ts';
import { measureScaleOut } from './scenarios/scale-out.ts';
import { measureSmallFiles } from './scenarios/small-files.ts';
import { benchSizes } from './sizes.ts';
import { evaluateTargets } from './targets.ts';
import { PRODUCTION_PROCESS_ENV } from './worker-process.ts';

/** Each scenario stores its figures where the later ones and the targets find them. */
const RUNNERS: Record<ScenarioId, (context: BenchContext) => Promise<void>> = {
  1: async (context) => void (context.results.computeFloor = await measureComputeFloor(context)),
  2: async (context) => void (context.results.ioFloor = await measureIoFloor(context)),
  3: async (context) => void (context.results.largeFile = await measureLargeFile(context)),
  4: async (context) => void (context.results.naive = await measureNaiveBaseline(context)),
  5: async (context) => void (context.results.smallFiles = await measureSmallFiles(context)),
  6: async (context) => void (context.results.scaleOut = await measureScaleOut(context)),
  7: async (context) => void (context.results.latency = await measureLatency(context)),
  8: async (context) => void (context.results.memoryGrowth = await measureMemoryGrowth(context)),
  9: async (context) => void (context.results.parquetWriter = await measureParquetWriter(context)),
  10: async (context) => void (context.results.requestLatency = await measureRequestLatency(context)),
  11: async (context) => void (context.results.manyLargeFiles = await measureManyLargeFiles(context)),
  12: async (context) => void (context.results.npmStart = await measureNpmStart(context)),
  13: async (context) => void (context.results.compressedInput = await measureCompressedInput(context)),
};

function describeMachine(): string {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Linux ${release()}, Node ${process.version}`;
}

function parseOrExit(argv: string[]): Exclude<ReturnType<typeof parseBenchOptions>, 'help'> {
  try {
    const options = parseBenchOptions(argv);
    if (options !== 'help') return options;
    process.stdout.write(`${USAGE}\nscenarios: ${Object.entries(SCENARIOS).map(([id, name]) => `${id} ${name}`).join(', ')}\n`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const argv = process.argv.slice(2);
const options = parseOrExit(argv);
const tempDir = mkdtempSync(join(tmpdir(), 'iot-bench-'));
const removeTempDir = () => rmSync(tempDir, { recursive: true, force: true });
killTrackedChildrenOnExit('stopping the workers, the bench children and the emulator', removeTempDir);

const started = performance.now();
const sizes = benchSizes(options.quick, options.largeFileRecords);
const results: BenchResults = {};
const failures: Array<{ scenario: string; error: string }> = [];
const loads: ScenarioLoad[] = [];
let context: BenchContext | undefined;
try {
  process.stderr.write('bench: compiling the worker and the bench children (tsconfig.build.json options)\n');
  compileForBench();
  context = await openBenchContext({ sizes, gzipLargeFile: options.gzipLargeFile, cpuProfileDir: options.cpuProfileDir, tempDir, results });
  for (const id of Object.keys(RUNNERS).map(Number) as ScenarioId[]) {
    if (!options.only.has(id)) continue;
    const emulatorPid = context.emulator.child.pid;
    const loadBefore = loadSnapshot([emulatorPid]);
    const scenarioStart = performance.now();
    try {
      await RUNNERS[id](context);
    } catch (error) {
      const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
      process.stderr.write(`bench: scenario ${id} (${SCENARIOS[id]}) failed: ${detail}\nemulator stderr (last lines):\n${context.emulator.stderr()}\n`);
      failures.push({ scenario: `${id} ${SCENARIOS[id]}`, error: errorMessage(error) });
    }
    const wallSeconds = (performance.now() - scenarioStart) / 1000;
    const other = otherLoadBetween(loadBefore, loadSnapshot([emulatorPid]));
    loads.push({
      scenario: `${id} ${SCENARIOS[id]}`,
      wallSeconds,
      otherCpuSeconds: other?.otherCpuSeconds ?? null,
      otherShare: other === null ? null : other.otherCpuSeconds / (wallSeconds * availableParallelism()),
      stealSeconds: other?.stealSeconds ?? null,
    });
  }
} catch (error) {
  failures.push({ scenario: 'setup', error: errorMessage(error) });
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
} finally {
  await context?.close().catch((error: unknown) => process.stderr.write(`bench: closing: ${errorMessage(error)}\n`));
  killTrackedChildren();
  removeTempDir();
}

if (results.naive?.matchesWorker === false) failures.push({ scenario: '4 naive baseline', error: "its output bytes differ from the worker's" });
const targets = evaluateTargets(results, sizes);
const description: RunDescription = {
  mode: options.quick ? 'quick' : 'full',
  command: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
  date: new Date().toISOString(),
  machine: describeMachine(),
  workerRuntime: `dist/worker/main.js, NODE_ENV=${PRODUCTION_PROCESS_ENV.NODE_ENV}, NODE_OPTIONS="${PRODUCTION_PROCESS_ENV.NODE_OPTIONS}"; emulator, workers and bench in separate processes on loopback`,
  changedSettings: [
    'HTTP_HOST=127.0.0.1 HTTP_PORT=0 (loopback, a free port, so several workers can run)',
    'MAX_FILES_IN_FLIGHT=1 in scenario 5\'s first run (what it measures)',
    'OUTPUT_FORMAT=parquet in scenario 9 (what it measures)',
    'AWS_ENDPOINT_URL=the latency proxy in scenarios 10 and 11, and FILES_IN_FLIGHT_MODE=fixed with MAX_FILES_IN_FLIGHT=N in scenario 10\'s fixed columns (what they measure)',
    'scenario 12 runs `npm start` itself: its worker from TypeScript source in npm start\'s process, with npm start\'s runtime (what it measures)',
    ...(options.cpuProfileDir === undefined
      ? []
      : ["--cpu-prof on the workers of scenario 3 and of scenario 5's default run (their figures include the profiler's cost)"]),
  ],
  failures,
};
process.stdout.write(`${renderReport(description, results, targets)}\n\n${renderLoads(loads)}\n`);
const profiles = [results.largeFile?.cpuProfile, results.smallFiles?.defaultBound.cpuProfile].filter((profile) => profile !== undefined);
for (const profile of profiles) process.stdout.write(`\n${renderCpuProfile(profile)}\n`);
const wallSeconds = (performance.now() - started) / 1000;
process.stdout.write(`\nbench wall time: ${wallSeconds.toFixed(1)} s\n`);
if (options.jsonFile !== undefined) {
  const json = { ...description, sizes, wallSeconds, results, targets, loads };
  writeFileSync(options.jsonFile, `${JSON.stringify(json, null, 2)}\n`);
}
const { resultsFile } = options;
if (resultsFile !== undefined) {
  const fromHere = relative(process.cwd(), resolve(resultsFile.path));
  const shownPath = fromHere.startsWith('..') ? resolve(resultsFile.path) : fromHere;
  if (failures.length > 0 && !resultsFile.requested) {
    process.stderr.write(`bench: ${shownPath} kept as it was, since a scenario failed (--results FILE writes this run's report anyway)\n`);
  } else {
    writeFileSync(resultsFile.path, renderResultsMarkdown({ description, results, targets, loads, profiles, wallSeconds }));
    process.stderr.write(`bench: report written to ${shownPath}\n`);
  }
}
process.exitCode = failures.length > 0 ? 1 : 0;
