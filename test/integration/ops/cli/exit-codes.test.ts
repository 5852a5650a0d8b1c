/**
 * `node ops/cli/main.ts` as a script sees it: exit codes, one-line errors, parseable --json, and Ctrl-C
 * (a real SIGINT) stopping a redrive after the batch in hand with exit 3.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { objectMessage } from '../../../../worker/common/object-message.ts';
import { createTestStack, receiveAll, testClients } from '../../../support/emulator.ts';
import { emulatorEnv, pipelineEnv, seedQueue, freePort, runCliProcess } from '../../../support/cli-harness.ts';

const CHILD_TIMEOUT_MS = 20_000;

const cli = (args: readonly string[], env: Record<string, string> = {}, onStderr?: (text: string, interrupt: () => void) => void) =>
  runCliProcess(args, env, CHILD_TIMEOUT_MS, onStderr);

let clients: AwsClients;
let journalDirectory: string;

beforeAll(async () => {
  clients = testClients();
  journalDirectory = await mkdtemp(join(tmpdir(), 'cli-exit-'));
});

afterAll(async () => {
  destroyAwsClients(clients);
  await rm(journalDirectory, { recursive: true, force: true });
});

describe('exit codes of node ops/cli/main.ts', () => {
  it('0 for --help on the program and on every command', async () => {
    const runs = await Promise.all(
      [[], ['status'], ['dlq', 'peek'], ['redrive'], ['backfill'], ['upload'], ['generate'], ['dlq', 'drop']].map((command) => cli([...command, '--help'])),
    );

    for (const run of runs) expect(run.code).toBe(0);
    expect(runs[0]?.stdout).toContain('Exit codes: 0 done; 1 the operation failed');
    expect(runs[3]?.stdout).toContain('--journal <file>');
    expect(runs[3]?.stdout).toContain('--reason <reason...>');
    expect(runs[7]?.stdout).toContain('--dry-run');
    expect(runs[7]?.stdout).toContain('none: no recorded reason');
  });

  it('2 with one line naming the flag and the variable when a setting is missing', async () => {
    const noRegion = await cli(['status']);
    const noQueue = await cli(['status'], { AWS_REGION: 'eu-west-1' });
    const noBucket = await cli(['backfill', '--prefix', 'x'], { AWS_REGION: 'eu-west-1', QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q' });

    for (const run of [noRegion, noQueue, noBucket]) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(noRegion.stderr).toContain('pass --region or set AWS_REGION');
    expect(noQueue.stderr).toContain('pass --queue-url or set QUEUE_URL');
    expect(noBucket.stderr).toContain('pass --raw-bucket or set RAW_BUCKET');
  });

  it('2 for malformed values and unknown commands or options', async () => {
    const runs = await Promise.all([
      cli(['status', '--endpoint', 'not a url', '--region', 'r', '--queue-url', 'http://q']),
      cli(['status', '--local'], { LOCAL_EMULATOR_PORT: 'abc' }),
      cli(['redrive', '--rate', '0']),
      cli(['dlq', 'peek', '-n', 'many']),
      cli(['backfill']),
      cli(['frobnicate']),
      cli(['status', '--no-such-option']),
      cli(['dlq', 'drop', '--dry-run']),
      cli(['dlq', 'drop', '--id', 'x', '--all']),
      cli(['redrive', '--reason', 'no_such_reason']),
    ]);

    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(runs[4]?.stderr).toContain("required option '--prefix <prefix>' not specified");
    expect(runs[7]?.stderr).toBe('error: say which messages: --id, --reason or --all\n');
    expect(runs[9]?.stderr).toContain('"no_such_reason" is not a reason the worker records');
  });

  it.each([[['status', '--local']], [['reconcile', '--local', '--dry-run']]])(
    '1 with the endpoint named when the local stack is not running: %j',
    async (args) => {
      const run = await cli(args, { LOCAL_EMULATOR_PORT: String(await freePort()) });

      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED \(is npm start running\?/);
    },
  );

  it('0 and parseable JSON against the emulator', async () => {
    const resources = await createTestStack(clients);

    const run = await cli(['status', '--json'], pipelineEnv(resources));

    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { queue: { url: string } }).queue.url).toBe(resources.queueUrl);
  });

  it('3 when Ctrl-C stops a redrive after a batch; the rerun moves the rest', async () => {
    const resources = await createTestStack(clients);
    await receiveAll(clients.sqs, resources.queueUrl);
    const bodies = Array.from({ length: 30 }, (_, index) => JSON.stringify(objectMessage({ bucket: resources.rawBucket, key: `k-${index}.jsonl` })));
    await seedQueue(clients.sqs, resources.dlqUrl, bodies.map((body) => ({ body })));
    const journal = ['--journal', join(journalDirectory, 'sigint.journal')];
    let interrupted = false;

    // At 10 messages a second, the second batch waits a second: time for Ctrl-C once the journal is named.
    const first = await cli(['redrive', '--rate', '10', ...journal], pipelineEnv(resources), (stderr, interrupt) => {
      if (!interrupted && stderr.includes('journal:')) {
        interrupted = true;
        setTimeout(interrupt, 300);
      }
    });
    const second = await cli(['redrive', '--json', ...journal], { ...emulatorEnv(), QUEUE_URL: resources.queueUrl, DLQ_URL: resources.dlqUrl });

    expect(first.code).toBe(3);
    expect(first.stdout).toContain('interrupted: run the same command again to go on');
    expect(second.code).toBe(0);
    const moved = (await receiveAll(clients.sqs, resources.queueUrl)).sort();
    expect(moved).toEqual([...bodies].sort());
  });
});
