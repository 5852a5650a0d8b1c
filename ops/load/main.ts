/**
 * `node ops/load/main.ts [--files 10000] [--records-per-file 100] [--workers 2] [--seed 7] [--json FILE]`:
 * many files through several production workers (dist/worker/main.js with the container's NODE_ENV and
 * NODE_OPTIONS, each a child process of its own, on one queue), then a ledger built from the inputs alone
 * proves that every input line is accounted for exactly once across processed, filtered and rejected
 * output. Prints a summary; exits 0 when the ledger is clean, 1 when a line is lost, duplicated,
 * misclassified, misplaced or altered (or the run failed), 2 on a bad command line. Emulator on loopback;
 * every wait bounded; every child killed on any exit.
 */
import { cpus, release, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../worker/common/aws-clients.ts';
import { errorMessage } from '../../worker/common/error-message.ts';
import { compileForBench } from '../bench/build.ts';
import { uniqueSuffix } from '../bench/context.ts';
import { cpuDelta, cpuSecondsOf, statusBytesOf } from '../bench/process-stats.ts';
import { putObjects } from '../bench/s3-objects.ts';
import { PRODUCTION_PROCESS_ENV, startBenchWorker, stopBenchWorkers, warningLines, type BenchWorker } from '../bench/worker-process.ts';
import { killTrackedChildren, killTrackedChildrenOnExit, stopChild, withTimeout } from '../local/child-processes.ts';
import { startEmulatorProcess, type EmulatorProcess } from '../local/emulator-process.ts';
import { createScratchStack, scratchWorkerSettings } from '../local/scratch-stack.ts';
import { planFile, renderFile, type InputOptions } from './inputs.ts';
import { Ledger, ledgerIsClean } from './ledger.ts';
import { LoadUsageError, parseLoadOptions, USAGE, type LoadOptions } from './options.ts';
import { waitForAllProcessed } from './processed-files.ts';
import { readBack } from './read-back.ts';
import { renderLoadReport, type InputFigures, type LoadFigures } from './report.ts';

/** The worker settings the ledger's expectations rest on: the defaults, set explicitly. */
const RECORD_SETTINGS = { TEMPERATURE_THRESHOLD_CELSIUS: '10', MAX_LINE_BYTES: '1048576', UNKNOWN_LOCATION_ID: 'unknown' } as const;
const REJECTED_PREFIX = 'rejected/';
const PUT_CONCURRENCY = 8;
const EMULATOR_START_TIMEOUT_MS = 20_000;
const WORKER_START_TIMEOUT_MS = 30_000;
const SETUP_TIMEOUT_MS = 30_000;

const progress = (text: string) => process.stderr.write(`load: ${text}\n`);

function parseOrExit(argv: string[]): LoadOptions {
  try {
    const options = parseLoadOptions(argv);
    if (options !== 'help') return options;
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof LoadUsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
}

function describeMachine(): string {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, Linux ${release()}, Node ${process.version}`;
}

interface Inputs {
  readonly objects: Array<{ readonly key: string; readonly body: Buffer }>;
  /** The seq of each file's first line, to plan it again when its outputs are read back. */
  readonly firstSeqs: readonly number[];
  readonly figures: InputFigures;
}

/** Every file planned, entered in the ledger and rendered, before the clock starts. */
function prepareInputs(inputOptions: InputOptions, ledger: Ledger): Inputs {
  const objects: Array<{ key: string; body: Buffer }> = [];
  const firstSeqs: number[] = [];
  let gzipFiles = 0;
  let crlfFiles = 0;
  let bomFiles = 0;
  let noFinalNewlineFiles = 0;
  let bytes = 0;
  let smallestFileRecords = Number.POSITIVE_INFINITY;
  let largestFileRecords = 0;
  for (let index = 0; index < inputOptions.files; index += 1) {
    firstSeqs.push(ledger.nextFileSeq);
    const file = planFile(inputOptions, index, ledger.nextFileSeq);
    ledger.expectFile(file.key, file.lines.map((line) => line.expected));
    const body = renderFile(file);
    objects.push({ key: file.key, body });
    const records = file.lines.filter((line) => line.expected !== 'none').length;
    smallestFileRecords = Math.min(smallestFileRecords, records);
    largestFileRecords = Math.max(largestFileRecords, records);
    gzipFiles += Number(file.gzip);
    crlfFiles += Number(file.crlf);
    bomFiles += Number(file.bom);
    noFinalNewlineFiles += Number(!file.finalNewline);
    bytes += body.length;
  }
  return {
    objects,
    firstSeqs,
    figures: { files: inputOptions.files, gzipFiles, crlfFiles, bomFiles, noFinalNewlineFiles, bytes, smallestFileRecords, largestFileRecords },
  };
}

async function deadLetterMessages(clients: AwsClients, dlqUrl: string): Promise<number | null> {
  try {
    const { Attributes: attributes = {} } = await withTimeout(
      clients.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      ),
      10_000,
      'reading the DLQ depth',
    );
    return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  } catch {
    return null;
  }
}

async function run(options: LoadOptions): Promise<LoadFigures> {
  const inputOptions: InputOptions = {
    files: options.files,
    recordsPerFile: options.recordsPerFile,
    seed: options.seed,
    thresholdCelsius: Number(RECORD_SETTINGS.TEMPERATURE_THRESHOLD_CELSIUS),
    maxLineBytes: Number(RECORD_SETTINGS.MAX_LINE_BYTES),
  };
  progress('compiling the worker (tsconfig.build.json options)');
  compileForBench();
  progress(`generating ${options.files} files of ${options.recordsPerFile} records on average`);
  const ledger = new Ledger();
  const inputs = prepareInputs(inputOptions, ledger);

  const emulator: EmulatorProcess = await startEmulatorProcess({ env: process.env, startTimeoutMs: EMULATOR_START_TIMEOUT_MS, stderrLines: 20 });
  const clients = createAwsClients({ region: emulator.region, endpoint: emulator.endpoint });
  let workers: BenchWorker[] = [];
  try {
    const resources = await createScratchStack(clients, 'load', uniqueSuffix(), SETUP_TIMEOUT_MS);
    const settings = { ...scratchWorkerSettings(emulator, resources), ...RECORD_SETTINGS };
    workers = await Promise.all(
      Array.from({ length: options.workers }, () => startBenchWorker({ settings, startTimeoutMs: WORKER_START_TIMEOUT_MS })),
    );
    progress(`${options.workers} workers started; putting ${options.files} files (${(inputs.figures.bytes / 1e6).toFixed(0)} MB), ${PUT_CONCURRENCY} at a time`);

    const workerCpuBefore = workers.map((worker) => cpuSecondsOf(worker.pid));
    const emulatorCpuBefore = cpuSecondsOf(emulator.child.pid);
    const keys = new Set(inputs.objects.map(({ key }) => key));
    const waiting = waitForAllProcessed(workers, keys, 120_000 + options.files * 100, progress);
    waiting.catch(() => undefined); // its failure is awaited below; the puts may fail first
    const puts = await putObjects(clients, resources.rawBucket, inputs.objects, PUT_CONCURRENCY);
    inputs.objects.length = 0; // the bodies are no longer needed
    progress(`all files put in ${((puts.lastEndMs - puts.firstStartMs) / 1000).toFixed(1)} s; waiting for the workers`);
    const processed = await waiting;

    const workerCpu = workers.map((worker, index) => cpuDelta(workerCpuBefore[index] ?? null, cpuSecondsOf(worker.pid)));
    const emulatorCpuSeconds = cpuDelta(emulatorCpuBefore, cpuSecondsOf(emulator.child.pid));
    const peakRss = workers.map((worker) => statusBytesOf(worker.pid, 'VmHWM'));
    const lastLineMs = Math.max(...[...processed.byKey.values()].map(({ atMs }) => atMs));
    const seconds = (lastLineMs - puts.firstStartMs) / 1000;
    const workerFigures = workers.map((worker, index) => ({
      files: [...processed.byKey.values()].filter((file) => file.worker === index).length,
      cpuSeconds: workerCpu[index] ?? null,
      peakRssBytes: peakRss[index] ?? null,
      warningLines: warningLines(worker),
    }));
    const deadLetter = await deadLetterMessages(clients, resources.dlqUrl);
    for (const [key, file] of processed.byKey) ledger.loggedCounts(key, file.counts);

    progress('stopping the workers (SIGTERM)');
    await stopBenchWorkers(workers);
    workers = [];

    progress('reading back every output object');
    const readBackFigures = await readBack(
      {
        clients,
        bucket: resources.processedBucket,
        rejectedPrefix: REJECTED_PREFIX,
        unknownLocationId: RECORD_SETTINGS.UNKNOWN_LOCATION_ID,
        files: options.files,
        planFile: (index) => planFile(inputOptions, index, inputs.firstSeqs[index] ?? 0),
        progress,
      },
      ledger,
    );
    const result = ledger.result();
    const records = result.lines - result.blankLines;
    return {
      date: new Date().toISOString(),
      machine: describeMachine(),
      workerRuntime: `${options.workers} × dist/worker/main.js, NODE_ENV=${PRODUCTION_PROCESS_ENV.NODE_ENV}, NODE_OPTIONS="${PRODUCTION_PROCESS_ENV.NODE_OPTIONS}", default settings (files in flight adaptive, MIN_FILES_IN_FLIGHT to MAX_FILES_IN_FLIGHT); emulator and workers in separate processes on loopback`,
      inputs: inputs.figures,
      seconds,
      putSeconds: (puts.lastEndMs - puts.firstStartMs) / 1000,
      filesPerSecond: options.files / seconds,
      recordsPerSecond: records / seconds,
      workers: workerFigures,
      emulatorCpuSeconds,
      reprocessedFiles: processed.reprocessed,
      failedFileLines: processed.failedLines,
      deadLetterMessages: deadLetter,
      readBack: readBackFigures,
      ledger: result,
      clean: ledgerIsClean(result) && readBackFigures.missingObjects === 0 && readBackFigures.unexpectedObjects === 0,
    };
  } finally {
    await stopBenchWorkers(workers).catch((error: unknown) => progress(`stopping the workers: ${errorMessage(error)}`));
    destroyAwsClients(clients);
    await stopChild(emulator.child, 15_000);
  }
}

const options = parseOrExit(process.argv.slice(2));
killTrackedChildrenOnExit('stopping the workers and the emulator');
try {
  const figures = await run(options);
  process.stdout.write(`${renderLoadReport(figures)}\n`);
  if (options.jsonFile !== undefined) writeFileSync(options.jsonFile, `${JSON.stringify({ options, ...figures }, null, 2)}\n`);
  process.exitCode = figures.clean ? 0 : 1;
} catch (error) {
  process.stderr.write(`load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
} finally {
  killTrackedChildren();
}
