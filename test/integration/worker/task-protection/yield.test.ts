/**
 * The hold limit on ECS task scale-in protection, through the real worker on the emulator with a fake
 * ECS container agent on loopback (ECS_AGENT_URI): under a steady backlog, a worker protected for
 * TASK_PROTECTION_MAX_HOLD_SECONDS stops receiving, finishes its files, removes its protection at once
 * (the release delay is far longer than the test), stays idle and unprotected for
 * TASK_PROTECTION_YIELD_IDLE_SECONDS, during which it can be stopped at once, and otherwise receives again.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { AwsClients } from '../../../../worker/common/aws-clients.ts';
import { waitFor } from '../../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../../support/worker-harness.ts';

interface AgentCall {
  readonly atMs: number;
  readonly enabled: boolean;
}

interface FakeAgent {
  readonly uri: string;
  readonly calls: AgentCall[];
  close(): Promise<void>;
}

/** Answers PUT /task-protection/v1/state as the ECS container agent does when ECS accepts the change. */
async function startFakeAgent(): Promise<FakeAgent> {
  const calls: AgentCall[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const enabled = (JSON.parse(body || '{}') as { ProtectionEnabled?: boolean }).ProtectionEnabled === true;
      if (req.method === 'PUT' && req.url?.endsWith('/task-protection/v1/state')) calls.push({ atMs: Date.now(), enabled });
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({ protection: { ExpirationDate: enabled ? '2030-01-01T00:00:00Z' : null, ProtectionEnabled: enabled, TaskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ingest/1' } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}/api/task-1`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Run in order after each test: the worker first, then the agent whose answer its last disable wants. */
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const FILE_MS = 600;
const IDLE_SECONDS = 3;
/** With two slots, several seconds of work: more than the 2 s hold limit. */
const BACKLOG_FILES = 20;
const RECORD = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';

/** Every GetObject takes FILE_MS, so that two slots stay busy for a while. */
function slowFiles(s3: S3Client): void {
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetObjectCommand') await sleep(FILE_MS);
      return next(args);
    },
    { step: 'initialize', name: 'slowFiles' },
  );
}

async function setUp(): Promise<{ pipeline: StackWithWorker; agent: FakeAgent }> {
  const agent = await startFakeAgent();
  cleanups.push(() => agent.close());
  const pipeline = await startStackWithWorker({
    maxReceiveCount: 5,
    env: {
      ECS_AGENT_URI: agent.uri,
      TASK_PROTECTION_MAX_HOLD_SECONDS: '2',
      TASK_PROTECTION_YIELD_IDLE_SECONDS: String(IDLE_SECONDS),
      TASK_PROTECTION_RELEASE_DELAY_SECONDS: '600',
      MAX_FILES_IN_FLIGHT: '2',
    },
    prepareS3: slowFiles,
  });
  cleanups.unshift(() => pipeline.stop());
  return { pipeline, agent };
}

async function visibleMessages(clients: AwsClients, queueUrl: string): Promise<number> {
  const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(Attributes?.ApproximateNumberOfMessages);
}

async function uploadBacklog(pipeline: StackWithWorker, count: number): Promise<string[]> {
  const keys = Array.from({ length: count }, (_, index) => `backlog/${String(index).padStart(2, '0')}.jsonl`);
  const { clients, resources } = pipeline;
  await Promise.all(keys.map((key) => clients.s3.send(new PutObjectCommand({ Bucket: resources.rawBucket, Key: key, Body: RECORD }))));
  return keys;
}

describe('task protection hold limit', () => {
  it('stops receiving after the hold limit, removes protection once its files finish, idles, then receives again', async () => {
    const { pipeline, agent } = await setUp();
    const { harness, clients, resources } = pipeline;
    const keys = await uploadBacklog(pipeline, BACKLOG_FILES);

    // Protection on, then off long before the 600 s release delay: the worker let go while work was waiting.
    const disable = await waitFor(() => Promise.resolve(agent.calls.find((call) => !call.enabled)), { what: 'protection removed', timeoutMs: 15_000 });
    const filesDoneAtRelease = harness.reports.length;
    const receivedAtRelease = await harness.metric('iot_ingest_messages_received_total');
    const ready = await fetch(`${harness.worker.httpAddress}/readyz`);

    expect(agent.calls[0]?.enabled).toBe(true);
    expect(filesDoneAtRelease).toBeLessThan(keys.length);
    expect(await harness.metric('iot_ingest_files_in_flight')).toBe(0);
    expect(harness.reports.every((report) => report.outcome === 'succeeded')).toBe(true); // the files it held were finished, not released
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      status: 'not_ready',
      reason: `not receiving: idle without task scale-in protection for ${IDLE_SECONDS} s so that ECS can replace this task; then receiving again`,
    });
    expect(await visibleMessages(clients, resources.queueUrl)).toBeGreaterThan(0);

    // Idle and unprotected: nothing is received while the backlog waits.
    await sleep(1_500);
    expect(await harness.metric('iot_ingest_messages_received_total')).toBe(receivedAtRelease);
    expect(harness.reports).toHaveLength(filesDoneAtRelease);
    expect(agent.calls).toHaveLength(2);

    // Not replaced: it receives again (protected again) once the window is over, and the backlog drains.
    const reEnable = await waitFor(() => Promise.resolve(agent.calls.slice(2).find((call) => call.enabled)), { what: 'protection back on', timeoutMs: 10_000 });
    expect(reEnable.atMs - disable.atMs).toBeGreaterThanOrEqual(IDLE_SECONDS * 1000 - 100);
    await waitFor(() => Promise.resolve(harness.reports.length >= keys.length ? true : undefined), { what: 'the whole backlog', timeoutMs: 20_000 });
    expect(harness.reports.map((report) => report.ref.key).sort()).toEqual(keys);
    expect(harness.reports.every((report) => report.outcome === 'succeeded')).toBe(true);

    const messages = harness.logLines().map((line) => line.msg);
    expect(messages).toContain('task scale-in protection held too long: stopped receiving; finishing the files held, then letting go so that ECS can replace this task');
    expect(messages).toContain('files finished and task scale-in protection removed; idle so that ECS can stop or replace this task');
    expect(messages).toContain('not replaced while unprotected: receiving again');
    for (const stage of ['stopped_receiving', 'released', 'resumed']) {
      expect(await harness.metric('iot_ingest_task_protection_yields_total', { stage })).toBeGreaterThanOrEqual(1);
    }
    expect(await harness.metric('iot_ingest_task_protection_yields_total', { stage: 'release_failed' })).toBe(0);
  }, 60_000);

  it('can be stopped at once while idle and unprotected, leaving the backlog to other tasks', async () => {
    const { pipeline, agent } = await setUp();
    const { harness, clients, resources } = pipeline;
    const keys = await uploadBacklog(pipeline, BACKLOG_FILES);
    await waitFor(() => Promise.resolve(agent.calls.find((call) => !call.enabled)), { what: 'protection removed', timeoutMs: 15_000 });

    // What ECS does to an unprotected task it replaces: SIGTERM, which main.ts turns into stop().
    const started = Date.now();
    await harness.worker.stop();
    const stopMs = Date.now() - started;

    expect(stopMs).toBeLessThan(2_000); // nothing held: no grace period to wait out
    expect(agent.calls.map((call) => call.enabled)).toEqual([true, false]); // already off: no further call
    expect(harness.reports.length).toBeLessThan(keys.length);
    expect(harness.reports.every((report) => report.outcome === 'succeeded')).toBe(true);
    expect(await visibleMessages(clients, resources.queueUrl)).toBe(keys.length - harness.reports.length);
  }, 60_000);
});
