/**
 * The production entry point as a process: what it says about bad settings, and how it answers SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createTestStack, testClients, waitFor } from '../../support/emulator.ts';
import { testEnvironment } from '../../support/worker-harness.ts';

const MAIN = fileURLToPath(new URL('../../../worker/main.ts', import.meta.url));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

function startMain(env: Record<string, string | undefined>) {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString('utf8')));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output, exited };
}

describe('worker/main.ts', () => {
  it.each([
    [{}, 'AWS_REGION'],
    [{ AWS_REGION: 'eu-west-1' }, 'QUEUE_URL'],
    [{ AWS_REGION: 'eu-west-1', QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q' }, 'PROCESSED_BUCKET'],
    [{ AWS_REGION: 'eu-west-1', QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q', PROCESSED_BUCKET: 'b', HTTP_PORT: 'eighty' }, 'HTTP_PORT'],
  ])('stops with exit code 2 and one line naming %j → %s', async (env, variable) => {
    const { output, exited } = startMain(env);

    const code = await exited;

    expect(code).toBe(2);
    const lines = output.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^configuration error: ${variable} must be `));
  });

  it('processes a file, then on SIGTERM drains and exits 0', async () => {
    const clients = testClients();
    const resources = await createTestStack(clients);
    const { child, output, exited } = startMain(testEnvironment(resources, { LOG_LEVEL: 'info' }));
    await waitFor(() => Promise.resolve(output.stdout.includes('"worker started"') ? true : undefined), { what: 'the worker to start' });

    await clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: 'main.jsonl', Body: '{"device_id":"x","temperature":11,"humidity":1}\n' }));
    await waitFor(() => Promise.resolve(output.stdout.includes('"file processed"') ? true : undefined), { what: 'the file to be processed' });
    child.kill('SIGTERM');
    const code = await exited;

    expect(code).toBe(0);
    expect(output.stdout).toContain('"msg":"worker stopped"');
    expect(output.stderr).toBe('');
    clients.s3.destroy();
    clients.sqs.destroy();
  });
});
