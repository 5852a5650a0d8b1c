/**
 * A failing ECS container agent, through the real worker on the emulator (ECS_AGENT_URI on loopback):
 * files are processed regardless, each failed agent call is counted in
 * iot_ingest_task_protection_agent_failures_total{operation} and logged, and once the agent accepts
 * again protection goes on and off as usual.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { waitFor } from '../../../support/emulator.ts';
import { startStackWithWorker, type StackWithWorker } from '../../../support/worker-harness.ts';

const RECORD = '{"device_id":"sensor-alpha","temperature":20,"humidity":55.5}\n';
const ACCESS_DENIED = 'HTTP 400 AccessDeniedException: User is not authorized to perform: ecs:UpdateTaskProtection (request req-1)';

interface FakeAgent {
  readonly uri: string;
  /** While true, every call is answered as ECS answers a task role without ecs:UpdateTaskProtection. */
  refusing: boolean;
  close(): Promise<void>;
}

async function startFakeAgent(): Promise<FakeAgent> {
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      const enabled = (JSON.parse(body || '{}') as { ProtectionEnabled?: boolean }).ProtectionEnabled === true;
      const [status, answer] = agent.refusing
        ? [400, { requestID: 'req-1', error: { Code: 'AccessDeniedException', Message: 'User is not authorized to perform: ecs:UpdateTaskProtection' } }]
        : [200, { protection: { ExpirationDate: enabled ? '2030-01-01T00:00:00Z' : null, ProtectionEnabled: enabled, TaskArn: 'arn:aws:ecs:us-east-1:123456789012:task/ingest/1' } }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent: FakeAgent = {
    uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/task-1`,
    refusing: true,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return agent;
}

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function upload(pipeline: StackWithWorker, key: string): Promise<void> {
  await pipeline.clients.s3.send(new PutObjectCommand({ Bucket: pipeline.resources.rawBucket, Key: key, Body: RECORD }));
  await pipeline.harness.waitForReport((report) => report.ref.key === key, key);
}

describe('task protection with a failing ECS agent', () => {
  it('processes files anyway, counts and logs each failed call, and protects again once the agent accepts', async () => {
    const agent = await startFakeAgent();
    cleanups.push(() => agent.close());
    const pipeline = await startStackWithWorker({ env: { ECS_AGENT_URI: agent.uri, TASK_PROTECTION_RELEASE_DELAY_SECONDS: '0' } });
    cleanups.unshift(() => pipeline.stop());
    const { harness } = pipeline;
    const failedCalls = (operation: string) => harness.metric('iot_ingest_task_protection_agent_failures_total', { operation });
    const lines = () => harness.logLines().filter((line) => line.component === 'task-protection');
    const logged = (msg: string) => waitFor(() => Promise.resolve(lines().some((line) => line.msg === msg) || undefined), { what: msg });

    await upload(pipeline, 'refused/one.jsonl');
    expect(harness.reports.map((report) => report.outcome)).toEqual(['succeeded']);
    await logged('could not turn task scale-in protection on; will retry'); // the answer may come after the file
    const refusals = lines().filter((line) => line.msg === 'could not turn task scale-in protection on; will retry');
    expect(refusals[0]).toMatchObject({ action: 'enable', err: ACCESS_DENIED, consecutiveFailures: 1, agentState: 'off' });
    // One call per time the task took work while unprotected: each one counted and logged.
    expect(await failedCalls('enable')).toBe(refusals.length);
    expect(await failedCalls('disable')).toBe(0);

    agent.refusing = false;
    await upload(pipeline, 'accepted/two.jsonl');
    expect(harness.reports.map((report) => report.outcome)).toEqual(['succeeded', 'succeeded']);
    await logged('task scale-in protection off');
    expect(await failedCalls('enable')).toBe(refusals.length);
    expect(await failedCalls('disable')).toBe(0);
    const messages = lines().map((line) => line.msg);
    expect(messages).toEqual(expect.arrayContaining(['ECS agent reachable again', 'task scale-in protection on']));
    expect(messages.indexOf('ECS agent reachable again')).toBeLessThan(messages.indexOf('task scale-in protection on'));
  }, 60_000);
});
