/**
 * `npm start` as a new user runs it: the whole local pipeline in a child process, the sample file
 * processed, the objects it names really stored, and Ctrl-C ending it with exit code 0. Both output formats.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from '@jest/globals';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';

const READY_LINE = 'Press Ctrl-C to stop.';
const START_TIMEOUT_MS = 25_000;

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Runs ops/local/main.ts (what `npm start` runs) on free ports until it prints its ready line. */
async function startLocalStackWithWorker(env: Record<string, string>): Promise<{ child: ChildProcess; stdout: string }> {
  const child = spawn(process.execPath, ['ops/local/main.ts'], {
    env: { ...process.env, LOCAL_EMULATOR_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no ready line in ${START_TIMEOUT_MS} ms:\n${stdout}\n${stderr}`)), START_TIMEOUT_MS);
    const check = () => {
      if (stdout.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code} before it was ready:\n${stdout}\n${stderr}`));
    });
  });
  return { child, stdout };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

/** The s3:// URLs of the objects the start-up text says were written. */
function namedOutputs(stdout: string): Array<{ bucket: string; key: string }> {
  return [...stdout.matchAll(/^ {2}(?:processed|rejected) output +s3:\/\/([^/]+)\/(\S+)/gm)].map(([, bucket = '', key = '']) => ({ bucket, key }));
}

async function readAll(endpoint: string, objects: ReadonlyArray<{ bucket: string; key: string }>): Promise<number[]> {
  const s3 = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    return await Promise.all(
      objects.map(async ({ bucket, key }) => (await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()).length),
    );
  } finally {
    s3.destroy();
  }
}

const endpointOf = (stdout: string) => /Emulator \(S3 \+ SQS\): (http:\/\/\S+)/.exec(stdout)?.[1] ?? '';

describe('npm start', () => {
  it('processes the sample into JSON Lines, names both stored outputs, shows the first records, and stops on Ctrl-C with 0', async () => {
    const { child, stdout } = await startLocalStackWithWorker({});

    expect(stdout).toContain('5 processed, 0 filtered, 0 rejected.');
    expect(namedOutputs(stdout)).toEqual([
      { bucket: 'iot-processed', key: 'samples/sample_data.jsonl' },
      { bucket: 'iot-processed', key: 'rejected/samples/sample_data.jsonl' },
    ]);
    expect(stdout).toContain('"location_id":"loc-warehouse-a","temp_fahrenheit":68}');
    const [processedBytes] = await readAll(endpointOf(stdout), namedOutputs(stdout));
    expect(processedBytes).toBeGreaterThan(0);
    expect(await stop(child)).toBe(0);
  }, 40_000);

  it('with OUTPUT_FORMAT=parquet, names the Parquet objects it stored, not a JSON Lines key, and stops on Ctrl-C with 0', async () => {
    const { child, stdout } = await startLocalStackWithWorker({ OUTPUT_FORMAT: 'parquet' });

    expect(stdout).toContain('5 processed, 0 filtered, 0 rejected.');
    expect(stdout).toContain('processed bucket  s3://iot-processed/parquet/');
    const outputs = namedOutputs(stdout);
    expect(outputs).toEqual([
      { bucket: 'iot-processed', key: 'parquet/dt=2025-07-11/samples/sample_data.parquet' },
      { bucket: 'iot-processed', key: 'rejected/samples/sample_data.jsonl' },
    ]);
    const [parquetBytes] = await readAll(endpointOf(stdout), outputs);
    expect(parquetBytes).toBeGreaterThan(0);
    expect(await stop(child)).toBe(0);
  }, 40_000);
});
