/**
 * Runs the assembled artifact against the local stack: the emulator as a child process, buckets, a queue
 * and its DLQ from ops/local/resources.ts, the runtime CMD with the stage's ENV, its HEALTHCHECK, one
 * small JSON Lines file processed end to end, the ops CLI's `reconcile` (the scheduled task's command)
 * finding it current, then SIGTERM with exit 0 and nothing on stderr expected.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createAwsClients, destroyAwsClients } from '../../worker/common/aws-clients.ts';
import { isRunning, stopChild, withTimeout } from '../local/child-processes.ts';
import { isLoopbackUrl, startEmulatorProcess } from '../local/emulator-process.ts';
import { createScratchStack, scratchWorkerSettings } from '../local/scratch-stack.ts';
import { startArtifact, type ArtifactProcess } from './artifact-process.ts';
import { commandEnv, runCommand } from './commands.ts';
import { PROJECT_ROOT } from './dockerfile.ts';
import type { AssembledArtifact } from './replay-stages.ts';
import type { StepRunner } from './steps.ts';

const EMULATOR_START_TIMEOUT_MS = 20_000;
const RESOURCES_TIMEOUT_MS = 20_000;
const WORKER_START_TIMEOUT_MS = 20_000;
const HEALTHCHECK_TIMEOUT_MS = 10_000;
const FILE_TIMEOUT_MS = 30_000;
const S3_CALL_TIMEOUT_MS = 10_000;
const WORKER_STOP_TIMEOUT_MS = 20_000; // above SHUTDOWN_GRACE_SECONDS below
const EMULATOR_STOP_TIMEOUT_MS = 15_000;
const RECONCILE_TIMEOUT_MS = 20_000;
/** The ops CLI in the image, as the scheduled reconciliation task runs it. */
const RECONCILE_ENTRY = 'dist/ops/cli/main.js';

const INPUT_LINES = [
  '{"device_id":"sensor-alpha","temperature":21.5,"humidity":40.5,"timestamp":"2025-07-11T11:00:00Z"}',
  '{"device_id":"sensor-beta","temperature":5,"humidity":50}',
  'not json',
];
const EXPECTED_PROCESSED =
  '{"device_id":"sensor-alpha","temperature":21.5,"humidity":40.5,"timestamp":"2025-07-11T11:00:00Z","location_id":"loc-warehouse-a","temp_fahrenheit":70.7}';

function objectField(value: unknown, field: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[field] : undefined;
}

export async function runAgainstLocalStack(artifact: AssembledArtifact, workRoot: string, step: StepRunner): Promise<void> {
  const emulator = await step('start the emulator (ops/local/emulator.ts, loopback)', () =>
    startEmulatorProcess({ env: commandEnv(), cwd: PROJECT_ROOT, startTimeoutMs: EMULATOR_START_TIMEOUT_MS, stderrLines: 30 }),
  );
  const clients = createAwsClients({ region: emulator.region, endpoint: emulator.endpoint });
  let worker: ArtifactProcess | undefined;
  try {
    const suffix = `${Date.now().toString(36)}-${process.pid.toString(36)}`;
    const resources = await step('create buckets, queue and DLQ (ops/local/resources.ts)', () =>
      createScratchStack(clients, 'artifact', suffix, RESOURCES_TIMEOUT_MS),
    );

    const home = join(workRoot, 'home');
    mkdirSync(home, { recursive: true });
    const env: Record<string, string> = {
      // What the image gives the process: its PATH (here: only this script's Node), its ENV, the task's settings.
      PATH: dirname(process.execPath),
      HOME: home,
      ...artifact.env,
      ...scratchWorkerSettings(emulator, resources),
      WAIT_TIME_SECONDS: '1',
      SHUTDOWN_GRACE_SECONDS: '5',
      LOG_LEVEL: 'info',
    };
    const running = startArtifact(artifact, env);
    worker = running;
    const started = await step(`start \`${artifact.cmd.join(' ')}\` in the artifact (NODE_ENV=${artifact.env['NODE_ENV']}, NODE_OPTIONS="${artifact.env['NODE_OPTIONS']}")`, () =>
      running.waitForLog((line) => line['msg'] === 'worker started', WORKER_START_TIMEOUT_MS, "'worker started'"),
    );
    const httpAddress = started['httpAddress'];
    if (typeof httpAddress !== 'string') throw new Error(`'worker started' has no httpAddress: ${JSON.stringify(started)}`);
    if (!isLoopbackUrl(httpAddress)) throw new Error(`${httpAddress} is not on loopback`);
    const port = new URL(httpAddress).port;

    const [program, ...args] = artifact.healthCheck.command;
    if (program !== 'node') throw new Error(`the HEALTHCHECK runs ${program}, which the slim image may not have`);
    // On the worker's own port (a free one here), which the command must read from HTTP_PORT as in the task.
    await step('run the HEALTHCHECK command (exit 0 expected)', async () => {
      await runCommand(process.execPath, args, artifact.appFolder, HEALTHCHECK_TIMEOUT_MS, { ...env, HTTP_PORT: port });
      return `healthy on ${httpAddress}/healthz`;
    });

    const key = `artifact-check/${suffix}.jsonl`;
    const processedLine = await step(`put s3://${resources.rawBucket}/${key} and wait for 'file processed'`, async () => {
      await withTimeout(
        clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: `${INPUT_LINES.join('\n')}\n` })),
        S3_CALL_TIMEOUT_MS,
        'PutObject',
      );
      const outcome = await running.waitForLog(
        (line) => line['key'] === key && typeof line['msg'] === 'string' && /^file (processed|failed|skipped)/.test(line['msg']),
        FILE_TIMEOUT_MS,
        `the worker's outcome for ${key}`,
      );
      if (outcome['msg'] !== 'file processed') throw new Error(`the worker did not process the file: ${JSON.stringify(outcome)}`);
      return outcome;
    });
    const records = processedLine['records'];
    if (objectField(records, 'processed') !== 1 || objectField(records, 'filtered') !== 1 || objectField(records, 'rejected') !== 1) {
      throw new Error(`unexpected record counts: ${JSON.stringify(records)}`);
    }

    await step('read the processed output', async () => {
      const [processed] = [objectField(processedLine['outputs'], 'processed')].flat();
      const bucket = objectField(processed, 'bucket');
      const outputKey = objectField(processed, 'key');
      if (typeof bucket !== 'string' || typeof outputKey !== 'string') throw new Error(`'file processed' names no processed output: ${JSON.stringify(processedLine)}`);
      const { Body } = await withTimeout(clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: outputKey })), S3_CALL_TIMEOUT_MS, 'GetObject');
      const text = (await Body?.transformToString('utf8')) ?? '';
      if (text !== `${EXPECTED_PROCESSED}\n`) throw new Error(`unexpected processed output in s3://${bucket}/${outputKey}:\n${text}`);
      return `s3://${bucket}/${outputKey}: ${text.length} bytes, as expected`;
    });

    await step(`run \`node ${RECONCILE_ENTRY} reconcile --since 1h --json\` in the artifact (the scheduled task's command)`, async () => {
      const reconcileEnv = { PATH: env['PATH'] ?? '', HOME: home, ...artifact.env, ...scratchWorkerSettings(emulator, resources), RAW_BUCKET: resources.rawBucket };
      const output = await runCommand(process.execPath, [RECONCILE_ENTRY, 'reconcile', '--since', '1h', '--json'], artifact.appFolder, RECONCILE_TIMEOUT_MS, reconcileEnv);
      const lines = output.trim().split('\n');
      if (lines.length !== 1) throw new Error(`reconcile --json printed ${lines.length} lines, not one:\n${output}`);
      const counts = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
      const expected = { listed: 1, current: 1, missing: 0, stale: 0, incomplete: 0, sent: 0 };
      for (const [name, value] of Object.entries(expected)) {
        if (counts[name] !== value) throw new Error(`reconcile found ${name} ${String(counts[name])}, expected ${value}: ${lines[0]}`);
      }
      return `reconcile: the processed file is current (${lines[0]})`;
    });

    await step('SIGTERM the worker (exit 0 expected)', async () => {
      const stopped = await stopChild(running.child, WORKER_STOP_TIMEOUT_MS);
      if (stopped.killed) throw new Error(`the worker did not exit within ${WORKER_STOP_TIMEOUT_MS / 1000} s of SIGTERM and was killed`);
      if (stopped.exit?.code !== 0) throw new Error(`the worker exited with code ${stopped.exit?.code} (signal ${stopped.exit?.signal}) after SIGTERM\n${running.stderr()}`);
      if (!running.lines().some((line) => line['msg'] === 'worker stopped')) throw new Error("the worker exited without logging 'worker stopped'");
      if (running.stderrText() !== '') throw new Error(`the worker wrote to stderr:\n${running.stderrText()}`);
      const errors = running.lines().filter((line) => typeof line['level'] === 'number' && line['level'] >= 50);
      if (errors.length > 0) throw new Error(`the worker logged errors:\n${errors.map((line) => JSON.stringify(line)).join('\n')}`);
      return "exit 0, 'worker stopped', stderr empty";
    });
  } catch (error) {
    if (worker !== undefined) {
      process.stderr.write(`worker stdout (last lines):\n${worker.stdout()}\nworker stderr (last lines):\n${worker.stderr()}\n`);
    }
    process.stderr.write(`emulator stderr (last lines):\n${emulator.stderr()}\n`);
    throw error;
  } finally {
    if (worker !== undefined && isRunning(worker.child)) await stopChild(worker.child, WORKER_STOP_TIMEOUT_MS);
    destroyAwsClients(clients);
    const stopped = await stopChild(emulator.child, EMULATOR_STOP_TIMEOUT_MS);
    if (stopped.killed) process.stderr.write('note: the emulator did not stop within the bound and was killed\n');
  }
}
