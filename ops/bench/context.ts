/**
 * What every scenario shares in one run: the emulator (a child process of its own), the clients
 * the bench talks to it with, the generated inputs (made once, so every comparison sees the same
 * bytes), scratch pipelines and workers.
 */
import { createAwsClients, destroyAwsClients, type AwsClients } from '../../worker/common/aws-clients.ts';
import { stopChild } from '../local/child-processes.ts';
import { startEmulatorProcess, type EmulatorProcess } from '../local/emulator-process.ts';
import type { LocalResources } from '../local/resources.ts';
import { createScratchStack, scratchWorkerSettings } from '../local/scratch-stack.ts';
import type { BenchResults } from './results.ts';
import { createPlainBucket, uploadInput } from './s3-objects.ts';
import type { BenchSizes } from './sizes.ts';
import { generateLargeInput, generateSmallFiles, type LargeInput, type SmallFile } from './test-data.ts';
import { startBenchWorker, type BenchWorker } from './worker-process.ts';

const EMULATOR_START_TIMEOUT_MS = 20_000;
const EMULATOR_STOP_TIMEOUT_MS = 15_000;
const SETUP_TIMEOUT_MS = 30_000;
export const WORKER_START_TIMEOUT_MS = 20_000;

export interface BenchContext {
  readonly emulator: EmulatorProcess;
  readonly clients: AwsClients;
  readonly sizes: BenchSizes;
  /** Scenario 3 puts the large file gzip-compressed (--gzip). */
  readonly gzipLargeFile: boolean;
  readonly cpuProfileDir: string | undefined;
  /** Figures of the scenarios run so far, for the ones that build on them. */
  readonly results: BenchResults;
  largeInput(): LargeInput;
  smallFiles(): readonly SmallFile[];
  /** The large input in a bucket no worker watches, for the floors and the naive baseline. */
  referenceObject(): Promise<{ readonly bucket: string; readonly key: string }>;
  /** A fresh raw bucket, processed bucket, queue and DLQ, so no run sees another's messages. */
  scratchStack(name: string): Promise<LocalResources>;
  /** Production workers on the pipeline; `settings` are the ones the run changes from the defaults. */
  startWorkers(resources: LocalResources, count: number, settings?: Record<string, string>, nodeFlags?: string[]): Promise<BenchWorker[]>;
  progress(text: string): void;
  close(): Promise<void>;
}

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface BenchContextOptions {
  readonly sizes: BenchSizes;
  readonly gzipLargeFile: boolean;
  readonly cpuProfileDir: string | undefined;
  /** Where the large input is written for the child processes; the caller removes it. */
  readonly tempDir: string;
  /** Filled in by the scenarios as they run. */
  readonly results: BenchResults;
}

export async function openBenchContext(options: BenchContextOptions): Promise<BenchContext> {
  const { sizes, gzipLargeFile, cpuProfileDir, tempDir, results } = options;
  const suffix = uniqueSuffix();
  const progress = (text: string) => process.stderr.write(`bench: ${text}\n`);
  const emulator: EmulatorProcess = await startEmulatorProcess({ env: process.env, startTimeoutMs: EMULATOR_START_TIMEOUT_MS, stderrLines: 20 });
  const clients = createAwsClients({ region: emulator.region, endpoint: emulator.endpoint });

  let largeInput: LargeInput | undefined;
  let smallFiles: SmallFile[] | undefined;
  let reference: Promise<{ bucket: string; key: string }> | undefined;

  const context: BenchContext = {
    emulator,
    clients,
    sizes,
    gzipLargeFile,
    cpuProfileDir,
    results,
    largeInput() {
      if (largeInput === undefined) {
        progress(`generating the large file (${sizes.largeFileRecords.toLocaleString('en-US')} records)`);
        largeInput = generateLargeInput(sizes.largeFileRecords, tempDir);
      }
      return largeInput;
    },
    smallFiles() {
      smallFiles ??= generateSmallFiles(sizes.smallFiles, sizes.smallFileRecords);
      return smallFiles;
    },
    referenceObject() {
      reference ??= (async () => {
        const bucket = `bench-ref-${suffix}`;
        const key = `reference/large-${sizes.largeFileRecords}.jsonl`;
        await createPlainBucket(clients, bucket);
        const input = context.largeInput();
        progress(`uploading the reference copy of the large file (${(input.body.length / 1e6).toFixed(1)} MB)`);
        await uploadInput(clients, bucket, key, input.body, 300_000);
        return { bucket, key };
      })();
      return reference;
    },
    scratchStack(name) {
      return createScratchStack(clients, 'bench', `${name}-${suffix}`, SETUP_TIMEOUT_MS);
    },
    async startWorkers(resources, count, settings = {}, nodeFlags = []) {
      return Promise.all(
        Array.from({ length: count }, () =>
          startBenchWorker({
            settings: { ...scratchWorkerSettings(emulator, resources), ...settings },
            startTimeoutMs: WORKER_START_TIMEOUT_MS,
            nodeFlags,
          }),
        ),
      );
    },
    progress,
    async close() {
      destroyAwsClients(clients);
      const stopped = await stopChild(emulator.child, EMULATOR_STOP_TIMEOUT_MS);
      if (stopped.killed || (stopped.exit?.code ?? 0) !== 0) progress(`note: the emulator did not stop cleanly (${JSON.stringify(stopped)})`);
    },
  };
  return context;
}
