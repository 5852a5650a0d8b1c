/**
 * The task protection driver against a fake ECS container agent on loopback: real timers, real HTTP,
 * every outcome handed to the events (and, in the last block, through telemetry.ts to logs and metrics).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import { createTaskProtection, type TaskProtection, type TaskProtectionEvents, type TaskProtectionOptions } from '../../../../worker/task-protection/driver.ts';
import type { AgentCallFailure } from '../../../../worker/task-protection/protocol.ts';
import { createTelemetry, taskProtectionEvents } from '../../../../worker/telemetry.ts';

const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/ingest/0123456789abcdef0';
const AGENT_PATH = '/api/0123456789abcdef0-1234567890';

// ---------------------------------------------------------------------------------------------
// A fake ECS container agent: a real HTTP server answering as amazon-ecs-agent's handlers do.

type AgentMode = 'ok' | 'access-denied' | 'ecs-failure' | 'server-error' | 'hang';

interface AgentRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly body: string;
}

interface FakeAgent {
  readonly uri: string;
  readonly requests: AgentRequest[];
  mode: AgentMode;
  /** Delay before each answer. */
  delayMs: number;
  /** Most requests ever open at once. */
  maxConcurrent: number;
  close(): Promise<void>;
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function startFakeAgent(): Promise<FakeAgent> {
  let open = 0;
  const hanging: ServerResponse[] = [];
  const agent: FakeAgent = {
    uri: '',
    requests: [],
    mode: 'ok',
    delayMs: 0,
    maxConcurrent: 0,
    close: () => Promise.resolve(),
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    open += 1;
    agent.maxConcurrent = Math.max(agent.maxConcurrent, open);
    res.on('close', () => {
      open -= 1;
    });
    let body = '';
    for await (const chunk of req) body += String(chunk);
    agent.requests.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body });
    if (agent.delayMs > 0) await sleep(agent.delayMs);
    const enabled = (JSON.parse(body || '{}') as { ProtectionEnabled?: boolean }).ProtectionEnabled === true;
    switch (agent.mode) {
      case 'ok':
        return reply(res, 200, {
          protection: { ExpirationDate: enabled ? '2030-01-01T00:00:00Z' : null, ProtectionEnabled: enabled, TaskArn: TASK_ARN },
        });
      case 'access-denied':
        return reply(res, 400, {
          requestID: 'req-1',
          error: {
            Arn: TASK_ARN,
            Code: 'AccessDeniedException',
            Message: 'User is not authorized to perform: ecs:UpdateTaskProtection',
          },
        });
      case 'ecs-failure':
        return reply(res, 200, { failure: { Arn: TASK_ARN, Detail: null, Reason: 'TASK_NOT_VALID' } });
      case 'server-error':
        return reply(res, 500, { error: { Arn: TASK_ARN, Code: 'ServerException', Message: 'Unexpected error occurred' } });
      case 'hang':
        hanging.push(res);
        return;
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(agent, {
    uri: `http://127.0.0.1:${port}${AGENT_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

// ---------------------------------------------------------------------------------------------

type EventName = keyof TaskProtectionEvents;

/** Events as the driver reports them, in order. */
function recordEvents() {
  const seen: Array<{ readonly event: EventName; readonly args: readonly unknown[] }> = [];
  const on =
    (event: EventName) =>
    (...args: unknown[]): void =>
      void seen.push({ event, args });
  const events: TaskProtectionEvents = {
    notOnEcs: on('notOnEcs'),
    protectionOn: on('protectionOn'),
    protectionRenewed: on('protectionRenewed'),
    protectionOff: on('protectionOff'),
    agentCallFailed: on('agentCallFailed'),
    agentReachableAgain: on('agentReachableAgain'),
    failedUnexpectedly: on('failedUnexpectedly'),
  };
  return {
    events,
    seen,
    count: (event: EventName) => seen.filter((entry) => entry.event === event).length,
    failures: () => seen.filter((entry) => entry.event === 'agentCallFailed').map((entry) => entry.args[0] as AgentCallFailure),
  };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const bodies = (agent: FakeAgent) => agent.requests.map((request) => JSON.parse(request.body) as { ProtectionEnabled: boolean });
const ENABLE = '{"ProtectionEnabled":true,"ExpiresInMinutes":60}';
const DISABLE = '{"ProtectionEnabled":false}';
const ACCESS_DENIED = 'HTTP 400 AccessDeniedException: User is not authorized to perform: ecs:UpdateTaskProtection (request req-1)';

describe('task protection against a fake ECS agent', () => {
  let agent: FakeAgent;
  let protection: TaskProtection | undefined;
  let reported: ReturnType<typeof recordEvents>;

  beforeEach(async () => {
    agent = await startFakeAgent();
    reported = recordEvents();
  });

  afterEach(async () => {
    await protection?.stop();
    protection = undefined;
    await agent.close();
  });

  function create(overrides: Partial<TaskProtectionOptions> = {}): TaskProtection {
    protection = createTaskProtection({
      agentUri: agent.uri,
      expiresInMinutes: 60,
      releaseDelayMs: 50,
      requestTimeoutMs: 1_000,
      stopTimeoutMs: 500,
      retryBaseMs: 30,
      retryMaxMs: 60,
      events: reported.events,
      ...overrides,
    });
    return protection;
  }

  it('sends nothing when there is no agent URI (outside ECS)', async () => {
    const calls: unknown[] = [];
    const fetchSpy = ((...args: Parameters<typeof fetch>) => {
      calls.push(args);
      return Promise.reject(new Error('must not be called'));
    }) as typeof fetch;
    const p = create({ agentUri: undefined, fetch: fetchSpy, releaseDelayMs: 0 });
    p.acquire();
    p.acquire();
    p.release();
    p.release();
    await p.idle();
    await p.stop();
    await sleep(30);
    expect(calls).toHaveLength(0);
    expect(agent.requests).toHaveLength(0);
    expect(p.state()).toMatchObject({ enabled: false, agent: 'off', pendingTimers: 0, protectedSinceMs: undefined });
    await expect(p.letGo()).resolves.toBeUndefined();
    expect(reported.seen).toStrictEqual([{ event: 'notOnEcs', args: [] }]);
  });

  it('PUTs the exact body to ${ECS_AGENT_URI}/task-protection/v1/state', async () => {
    const p = create();
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    p.release();
    await waitFor(() => p.state().agent === 'off', 'protection off');
    expect(agent.requests).toStrictEqual([
      { method: 'PUT', path: `${AGENT_PATH}/task-protection/v1/state`, contentType: 'application/json', body: ENABLE },
      { method: 'PUT', path: `${AGENT_PATH}/task-protection/v1/state`, contentType: 'application/json', body: DISABLE },
    ]);
    expect(p.state().expirationDate).toBeUndefined();
    expect(reported.seen).toStrictEqual([
      { event: 'protectionOn', args: [60, '2030-01-01T00:00:00Z'] },
      { event: 'protectionOff', args: [] },
    ]);
  });

  it('tolerates a trailing slash on the agent URI', async () => {
    const p = create({ agentUri: `${agent.uri}/` });
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    expect(agent.requests[0]?.path).toBe(`${AGENT_PATH}/task-protection/v1/state`);
  });

  it('turns protection on once at 0 → 1; nested acquire/release sends nothing more', async () => {
    const p = create();
    p.acquire();
    p.acquire();
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    expect(p.state().expirationDate).toBe('2030-01-01T00:00:00Z');
    p.release();
    p.release();
    p.acquire();
    p.release();
    await p.idle();
    await sleep(100); // two release delays: nothing may follow while one holder remains
    expect(bodies(agent)).toStrictEqual([{ ProtectionEnabled: true, ExpiresInMinutes: 60 }]);
    expect(p.state()).toMatchObject({ holders: 1, wanted: true, agent: 'on' });
  });

  it('turns protection off once, only after the count stayed at 0 for the release delay', async () => {
    const p = create({ releaseDelayMs: 100 });
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    p.release();
    expect(p.state()).toMatchObject({ holders: 0, wanted: true, pendingTimers: 2 }); // the release delay and the renewal
    await sleep(40);
    expect(agent.requests).toHaveLength(1); // still within the delay
    await waitFor(() => agent.requests.length === 2, 'the disable request');
    await waitFor(() => p.state().agent === 'off', 'protection off');
    await sleep(150);
    expect(bodies(agent).map((body) => body.ProtectionEnabled)).toStrictEqual([true, false]);
    expect(p.state()).toMatchObject({ wanted: false, pendingTimers: 0 });
  });

  it('keeps protection on without a request when work comes back within the delay', async () => {
    const p = create({ releaseDelayMs: 200 });
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    for (let file = 0; file < 5; file += 1) {
      p.release();
      await sleep(20);
      p.acquire();
    }
    await sleep(300); // longer than the delay, still holding
    expect(agent.requests).toHaveLength(1);
    expect(p.state()).toMatchObject({ agent: 'on', holders: 1 });
    p.release();
    await waitFor(() => p.state().agent === 'off', 'protection off');
    expect(bodies(agent).map((body) => body.ProtectionEnabled)).toStrictEqual([true, false]);
  });

  it('renews protection before it expires while busy, and not once idle', async () => {
    const p = create({ expiresInMinutes: 1, renewAfterMs: 60, releaseDelayMs: 0 });
    p.acquire();
    const renewals = () => reported.count('protectionRenewed');
    await waitFor(() => renewals() >= 2, 'two renewals', 3_000);
    expect(agent.requests.length).toBeGreaterThanOrEqual(3);
    expect(bodies(agent).every((body) => body.ProtectionEnabled)).toBe(true);
    expect(agent.requests[0]?.body).toBe('{"ProtectionEnabled":true,"ExpiresInMinutes":1}');
    p.release();
    await waitFor(() => p.state().agent === 'off', 'protection off');
    const count = agent.requests.length;
    await sleep(200);
    expect(agent.requests).toHaveLength(count);
    expect(p.state().pendingTimers).toBe(0);
  });

  it('never sends two requests at once', async () => {
    agent.delayMs = 30;
    const p = create({ releaseDelayMs: 0 });
    for (let file = 0; file < 4; file += 1) {
      p.acquire();
      await sleep(10);
      p.release();
      await sleep(10);
    }
    await waitFor(() => p.state().agent === 'off' && p.state().pendingTimers === 0, 'protection off');
    await p.idle();
    expect(agent.maxConcurrent).toBe(1);
    expect(bodies(agent).at(-1)?.ProtectionEnabled).toBe(false);
  });

  it('a refusing agent never throws into acquire/release; it is logged, reported and retried', async () => {
    agent.mode = 'access-denied';
    const p = create();
    expect(() => p.acquire()).not.toThrow();
    await waitFor(() => reported.failures().length >= 1, 'the first failure');
    expect(reported.failures()[0]).toStrictEqual({ action: 'enable', error: ACCESS_DENIED, consecutiveFailures: 1, agentState: 'off', willRetry: true });
    expect(p.state()).toMatchObject({ agent: 'off', lastError: ACCESS_DENIED });

    agent.mode = 'ok'; // the role is fixed: the retry succeeds
    await waitFor(() => p.state().agent === 'on', 'protection on after a retry');
    expect(p.state()).toMatchObject({ consecutiveFailures: 0, lastError: undefined });
    const failures = reported.failures().length;
    expect(reported.seen.filter((entry) => entry.event === 'agentReachableAgain')).toStrictEqual([{ event: 'agentReachableAgain', args: ['enable', failures] }]);
    expect(() => p.release()).not.toThrow();
    await waitFor(() => p.state().agent === 'off', 'protection off');
  });

  it('takes an ECS failure answered with HTTP 200 as a failure', async () => {
    agent.mode = 'ecs-failure';
    const p = create();
    p.acquire();
    await waitFor(() => reported.failures().length >= 1, 'the failure');
    expect(reported.failures()[0]?.error).toBe('ECS refused: TASK_NOT_VALID');
    // A definite refusal leaves the task unprotected: releasing needs no disable call.
    agent.mode = 'access-denied';
    p.release();
    await sleep(150);
    expect(bodies(agent).every((body) => body.ProtectionEnabled)).toBe(true);
    expect(p.state()).toMatchObject({ agent: 'off', wanted: false, pendingTimers: 0 });
  });

  it('bounds a hanging agent by the request timeout, then removes protection it may have set', async () => {
    agent.mode = 'hang';
    const p = create({ requestTimeoutMs: 80, retryBaseMs: 10_000, retryMaxMs: 10_000, releaseDelayMs: 20 });
    p.acquire();
    await waitFor(() => reported.failures().length === 1, 'the timeout');
    expect(reported.failures()[0]).toMatchObject({ error: 'TimeoutError: no answer from the ECS agent within 80 ms', agentState: 'unknown' });
    expect(p.state().agent).toBe('unknown');
    agent.mode = 'ok';
    p.release();
    await waitFor(() => p.state().agent === 'off', 'protection off');
    expect(bodies(agent).map((body) => body.ProtectionEnabled)).toStrictEqual([true, false]);
  });

  it('stop() turns protection off, leaves no timers, and ignores later work', async () => {
    const p = create({ releaseDelayMs: 10_000 });
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    p.release();
    expect(p.state().pendingTimers).toBe(2); // the release delay and the renewal
    await p.stop();
    expect(bodies(agent).map((body) => body.ProtectionEnabled)).toStrictEqual([true, false]);
    expect(p.state()).toMatchObject({ agent: 'off', pendingTimers: 0, stopped: true });
    p.acquire();
    p.release();
    await sleep(50);
    expect(agent.requests).toHaveLength(2);
    await p.stop(); // idempotent
    expect(agent.requests).toHaveLength(2);
  });

  it('stop() sends nothing when protection was never on', async () => {
    const p = create();
    await p.stop();
    expect(agent.requests).toHaveLength(0);
  });

  it('stop() is bounded while the agent hangs, and does not throw', async () => {
    agent.mode = 'hang';
    const p = create({ requestTimeoutMs: 5_000, stopTimeoutMs: 100 });
    p.acquire();
    await waitFor(() => agent.requests.length === 1, 'the enable request');
    const started = Date.now();
    await expect(p.stop()).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(p.state()).toMatchObject({ pendingTimers: 0, stopped: true });
    expect(reported.failures().at(-1)).toMatchObject({ action: 'disable', willRetry: false, error: 'TimeoutError: no answer from the ECS agent within 100 ms' });
  });

  it('reports since when protection has been on, keeps it through renewals, and clears it once off', async () => {
    let clockMs = 1_000;
    const p = create({ expiresInMinutes: 1, renewAfterMs: 40, releaseDelayMs: 0, nowMs: () => clockMs });
    expect(p.state().protectedSinceMs).toBeUndefined();
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    expect(p.state().protectedSinceMs).toBe(1_000);
    clockMs = 5_000;
    const renewals = () => reported.count('protectionRenewed');
    await waitFor(() => renewals() >= 1, 'a renewal');
    expect(p.state().protectedSinceMs).toBe(1_000); // renewing is not a new stretch
    p.release();
    await waitFor(() => p.state().agent === 'off', 'protection off');
    expect(p.state().protectedSinceMs).toBeUndefined();
    clockMs = 9_000;
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on again');
    expect(p.state().protectedSinceMs).toBe(9_000);
  });

  it('does not count protection the agent refused', async () => {
    agent.mode = 'access-denied';
    const p = create();
    p.acquire();
    await waitFor(() => reported.failures().length >= 1, 'the refusal');
    expect(p.state()).toMatchObject({ agent: 'off', protectedSinceMs: undefined });
  });

  it('letGo() removes protection at once when nothing is held, without waiting for the release delay', async () => {
    const p = create({ releaseDelayMs: 60_000 });
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    await p.letGo(); // work still held: nothing changes
    expect(p.state()).toMatchObject({ agent: 'on', holders: 1 });
    p.release();
    await sleep(50);
    expect(p.state()).toMatchObject({ agent: 'on', wanted: true }); // the release delay runs
    await p.letGo();
    expect(p.state()).toMatchObject({ agent: 'off', wanted: false, protectedSinceMs: undefined, pendingTimers: 0 });
    expect(bodies(agent).map((body) => body.ProtectionEnabled)).toStrictEqual([true, false]);
    p.acquire(); // the next work protects the task again
    await waitFor(() => p.state().agent === 'on', 'protection on again');
  });

  it('letGo() resolves after a failed removal, which is retried', async () => {
    const p = create({ releaseDelayMs: 60_000 });
    p.acquire();
    await waitFor(() => p.state().agent === 'on', 'protection on');
    p.release();
    agent.mode = 'server-error';
    await p.letGo();
    expect(reported.failures().map((failure) => failure.action)).toStrictEqual(['disable']);
    expect(p.state()).toMatchObject({ agent: 'unknown', wanted: false });
    agent.mode = 'ok';
    await waitFor(() => p.state().agent === 'off', 'protection off after a retry');
  });

  it('refuses an expiry ECS does not accept', () => {
    for (const expiresInMinutes of [0, 2_881, 1.5]) {
      expect(() => createTaskProtection({ agentUri: agent.uri, expiresInMinutes, releaseDelayMs: 0, events: reported.events })).toThrow(RangeError);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Through telemetry.ts, wired as worker.ts wires it: the log lines and the failed-call counter.

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

const LEVEL = { debug: 20, info: 30, warn: 40 } as const;
const FAILURES_METRIC = 'iot_ingest_task_protection_agent_failures_total';

describe('task protection reporting through telemetry', () => {
  let agent: FakeAgent;
  let protection: TaskProtection | undefined;

  beforeEach(async () => {
    agent = await startFakeAgent();
  });

  afterEach(async () => {
    await protection?.stop();
    protection = undefined;
    await agent.close();
  });

  function createWithTelemetry(agentUri: string | undefined) {
    const lines: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    const telemetry = createTelemetry(logger, { defaultMetrics: false });
    protection = createTaskProtection({
      agentUri,
      expiresInMinutes: 60,
      releaseDelayMs: 0,
      retryBaseMs: 30,
      retryMaxMs: 60,
      events: taskProtectionEvents(telemetry),
    });
    const failedCalls = async (operation: string) => {
      const values = (await telemetry.registry.getSingleMetric(FAILURES_METRIC)?.get())?.values ?? [];
      return values.find((value) => value.labels.operation === operation)?.value;
    };
    return { protection, lines, failedCalls };
  }

  it('counts each failed agent call by operation and logs it, then logs the recovery', async () => {
    agent.mode = 'access-denied';
    const { protection: p, lines, failedCalls } = createWithTelemetry(agent.uri);
    expect([await failedCalls('enable'), await failedCalls('disable')]).toStrictEqual([0, 0]);
    p.acquire();
    await waitFor(() => lines.some((line) => line.level === LEVEL.warn), 'the warning');
    expect(lines.find((line) => line.level === LEVEL.warn)).toMatchObject({
      msg: 'could not turn task scale-in protection on; will retry',
      component: 'task-protection',
      action: 'enable',
      err: ACCESS_DENIED,
      consecutiveFailures: 1,
      agentState: 'off',
    });
    expect(await failedCalls('enable')).toBeGreaterThanOrEqual(1);

    agent.mode = 'ok';
    await waitFor(() => p.state().agent === 'on', 'protection on after a retry');
    const failures = lines.filter((line) => line.level === LEVEL.warn).length;
    expect(await failedCalls('enable')).toBe(failures);
    expect(await failedCalls('disable')).toBe(0);
    p.release();
    await waitFor(() => p.state().agent === 'off', 'protection off');
    expect(lines.filter((line) => line.level === LEVEL.info)).toMatchObject([
      { component: 'task-protection', action: 'enable', failures, msg: 'ECS agent reachable again' },
      { component: 'task-protection', expiresInMinutes: 60, expirationDate: '2030-01-01T00:00:00Z', msg: 'task scale-in protection on' },
      { component: 'task-protection', msg: 'task scale-in protection off' },
    ]);
  });

  it('says once, at start, that protection is off outside ECS', () => {
    const { lines } = createWithTelemetry(undefined);
    expect(lines).toMatchObject([
      { level: LEVEL.info, component: 'task-protection', msg: 'task scale-in protection is off: ECS_AGENT_URI is not set (not running on ECS)' },
    ]);
  });
});
