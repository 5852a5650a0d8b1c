/**
 * `reconcile` through the real CLI against the emulator: classification from the outputs' provenance
 * (written here as the worker writes it), what it sends, --dry-run, --json, --since, --state and
 * OUTPUT_FORMAT=parquet. The worker's own round trips are in reconcile-worker.test.ts, inventories in
 * reconcile-inventory.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LocalResources } from '../../../../ops/local/resources.ts';
import { destroyAwsClients, type AwsClients } from '../../../../worker/common/aws-clients.ts';
import { writeSweepState } from '../../../../ops/cli/object-sweep/sweep-state.ts';
import { pipelineEnv, runOps } from '../../../support/cli-harness.ts';
import { testClients } from '../../../support/emulator.ts';
import { COUNTS, objectLines, putBothOutputs, putOutput, putRaw, queuedMessages, silentStack, type ReconcileJson } from './reconcile-support.ts';

let clients: AwsClients;
const folder = mkdtempSync(join(tmpdir(), 'reconcile-state-'));

beforeAll(() => {
  clients = testClients();
});

afterAll(() => {
  destroyAwsClients(clients);
  rmSync(folder, { recursive: true, force: true });
});

/** One object in each state; returns the stack and the raw ETags by key. */
async function everyCase(): Promise<{ resources: LocalResources; eTags: Record<string, string> }> {
  const resources = await silentStack(clients);
  const eTags: Record<string, string> = {};
  for (const key of ['in/current.jsonl', 'in/missing.jsonl', 'in/only-rejected.jsonl', 'in/stale.jsonl', 'in/no-counts.jsonl', 'in/half.jsonl', 'in/site 2/bare.jsonl']) {
    eTags[key] = await putRaw(clients, resources.rawBucket, key, `{"key":${JSON.stringify(key)}}\n`);
  }
  await putRaw(clients, resources.rawBucket, 'in/notes.txt', 'not a reading\n');
  const at = (key: string) => ({ key, eTag: eTags[key] ?? '', counts: COUNTS });
  await putBothOutputs(clients, resources, at('in/current.jsonl'));
  await putOutput(clients, resources, 'rejected', at('in/only-rejected.jsonl'));
  await putBothOutputs(clients, resources, { ...at('in/stale.jsonl'), eTag: '0123456789abcdef0123456789abcdef' });
  await putBothOutputs(clients, resources, { ...at('in/no-counts.jsonl'), counts: undefined });
  await putOutput(clients, resources, 'processed', at('in/half.jsonl'));
  await putOutput(clients, resources, 'rejected', { ...at('in/half.jsonl'), eTag: '0123456789abcdef0123456789abcdef' });
  await putBothOutputs(clients, resources, { ...at('in/site 2/bare.jsonl'), bare: true });
  return { resources, eTags };
}

const EXPECTED_REASONS = {
  'in/missing.jsonl': 'missing',
  'in/only-rejected.jsonl': 'missing',
  'in/stale.jsonl': 'stale',
  'in/no-counts.jsonl': 'incomplete',
  'in/half.jsonl': 'incomplete',
  'in/site 2/bare.jsonl': 'incomplete',
};

describe('reconcile', () => {
  it('--dry-run --json: one JSON line of counts on stdout, one line per object to re-enqueue with its reason on stderr, nothing sent', async () => {
    const { resources } = await everyCase();

    const run = await runOps(['reconcile', '--prefix', 'in/', '--dry-run', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.json<ReconcileJson>()).toMatchObject({ listed: 8, matched: 7, current: 1, missing: 2, stale: 1, incomplete: 3, sent: 0, dryRun: true, stoppedBy: 'done' });
    const lines = objectLines(run.stderr);
    expect(Object.fromEntries(lines.map((line) => [line.key, line.reason]))).toEqual(EXPECTED_REASONS);
    expect(lines.every((line) => line.msg === 'would re-enqueue' && line.bucket === resources.rawBucket)).toBe(true);
    expect(await queuedMessages(clients, resources.queueUrl)).toEqual([]);
  });

  it('--dry-run without --json lists reason and key, one a line, then the counts', async () => {
    const { resources } = await everyCase();

    const run = await runOps(['reconcile', '--dry-run'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const keyLines = lines.slice(0, 6).map((line) => /^(\w+) +(.+)$/.exec(line)?.slice(1));
    expect(Object.fromEntries(keyLines.map((pair) => [pair?.[1], pair?.[0]]))).toEqual(EXPECTED_REASONS);
    expect(lines[6]).toBe('dry run: listed 8, matched 7: current 1, missing 2, stale 1, incomplete 3; would send 6 (the keys above); nothing was sent');
    expect(lines[7]).toBe(`checked s3://${resources.rawBucket}/`);
    expect(await queuedMessages(clients, resources.queueUrl)).toEqual([]);
  });

  it('re-enqueues the missing, stale and incomplete objects with the object messages backfill sends', async () => {
    const { resources, eTags } = await everyCase();

    const run = await runOps(['reconcile', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(run.json<ReconcileJson>()).toMatchObject({ current: 1, missing: 2, stale: 1, incomplete: 3, sent: 6, dryRun: false, stoppedBy: 'done' });
    expect(objectLines(run.stderr).map((line) => line.msg)).toEqual(Array(6).fill('re-enqueued'));
    expect(run.json<ReconcileJson>()).toMatchObject({ excluded: 0 });
    const messages = await queuedMessages(clients, resources.queueUrl);
    expect(messages.map((message) => message.key).sort()).toEqual(Object.keys(EXPECTED_REASONS).sort());
    for (const message of messages) {
      expect(message).toEqual({ type: 'iot-ingest.object', version: 1, bucket: resources.rawBucket, key: message.key, size: expect.any(Number), eTag: eTags[message.key] });
    }
  });

  it('finds outputs under PROCESSED_PREFIX and REJECTED_BUCKET/PREFIX as the worker writes them, and only the rejected one with OUTPUT_FORMAT=parquet', async () => {
    const resources = await silentStack(clients);
    const eTag = await putRaw(clients, resources.rawBucket, 'a.jsonl', '{}\n');
    // Only the rejected output, at the default prefix: current for Parquet output, missing for JSON Lines.
    await putOutput(clients, resources, 'rejected', { key: 'a.jsonl', eTag, counts: COUNTS });

    const jsonl = await runOps(['reconcile', '--dry-run', '--json'], { env: pipelineEnv(resources) });
    const parquet = await runOps(['reconcile', '--dry-run', '--json'], { env: { ...pipelineEnv(resources), OUTPUT_FORMAT: 'parquet' } });
    const elsewhere = await runOps(['reconcile', '--dry-run', '--json'], { env: { ...pipelineEnv(resources), OUTPUT_FORMAT: 'parquet', REJECTED_PREFIX: 'bad/' } });

    expect(jsonl.json<ReconcileJson>()).toMatchObject({ matched: 1, missing: 1, current: 0 });
    expect(parquet.json<ReconcileJson>()).toMatchObject({ matched: 1, missing: 0, current: 1 });
    expect(elsewhere.json<ReconcileJson>()).toMatchObject({ matched: 1, missing: 1, current: 0 });
  });

  it('leaves the move mode\'s archived copies alone, as the worker does', async () => {
    const resources = await silentStack(clients);
    await putRaw(clients, resources.rawBucket, 'archive/in/a.jsonl', '{}\n');
    await putRaw(clients, resources.rawBucket, 'in/b.jsonl', '{}\n');

    const keep = await runOps(['reconcile', '--dry-run', '--json'], { env: pipelineEnv(resources) });
    const move = await runOps(['reconcile', '--dry-run', '--json'], { env: { ...pipelineEnv(resources), SOURCE_AFTER_SUCCESS: 'move' } });
    const elsewhere = await runOps(['reconcile', '--dry-run', '--json'], {
      env: { ...pipelineEnv(resources), SOURCE_AFTER_SUCCESS: 'move', SOURCE_ARCHIVE_BUCKET: 'another-bucket' },
    });

    expect(keep.json<ReconcileJson>()).toMatchObject({ listed: 2, matched: 2, missing: 2 });
    expect(objectLines(move.stderr).map((line) => line.key)).toEqual(['in/b.jsonl']);
    expect(move.json<ReconcileJson>()).toMatchObject({ listed: 2, excluded: 1, matched: 1, missing: 1 });
    expect(elsewhere.json<ReconcileJson>()).toMatchObject({ listed: 2, matched: 2, missing: 2 });
  });

  it('--since checks only objects modified after it', async () => {
    const { resources } = await everyCase();

    const recent = await runOps(['reconcile', '--since', '1h', '--dry-run', '--json'], { env: pipelineEnv(resources) });
    const future = await runOps(['reconcile', '--since', new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'), '--dry-run', '--json'], {
      env: pipelineEnv(resources),
    });
    const bad = await runOps(['reconcile', '--since', 'yesterday'], { env: pipelineEnv(resources) });

    expect(recent.json<ReconcileJson>()).toMatchObject({ listed: 8, matched: 7, missing: 2 });
    expect(recent.json<ReconcileJson>().modifiedAfter).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(future.json<ReconcileJson>()).toMatchObject({ listed: 8, matched: 0, missing: 0, sent: 0 });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/--since.*duration back from now/);
  });

  it('--state: an interrupted run leaves the last key handled, the rerun goes on after it, and the file is removed at the end', async () => {
    const { resources } = await everyCase();
    const state = join(folder, 'interrupted.json');
    const interrupt = new AbortController();

    // Pages of 2 keys; stop once the first batch is on the queue.
    const first = await runOps(['reconcile', '--page-size', '2', '--state', state, '--json'], {
      env: pipelineEnv(resources),
      signal: interrupt.signal,
      prepareClients: (cliClients) => {
        cliClients.sqs.middlewareStack.add((next) => async (args) => {
          const result = await next(args);
          if ((args.input as { Entries?: unknown }).Entries !== undefined) interrupt.abort();
          return result;
        }, { step: 'initialize', name: 'interruptAfterFirstSend' });
      },
    });

    expect(first.exitCode).toBe(3);
    const firstReport = first.json<ReconcileJson>();
    expect(firstReport.stoppedBy).toBe('interrupted');
    expect(firstReport.sent).toBeGreaterThan(0);
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { sweep: string; after: { key: string } };
    expect(saved.sweep).toBe(`s3://${resources.rawBucket}/`);
    const firstKeys = (await queuedMessages(clients, resources.queueUrl)).map((message) => message.key);
    expect(firstKeys.at(-1)).toBe(saved.after.key);

    const second = await runOps(['reconcile', '--page-size', '2', '--state', state, '--json'], { env: pipelineEnv(resources) });

    expect(second.exitCode).toBe(0);
    const secondKeys = (await queuedMessages(clients, resources.queueUrl)).map((message) => message.key);
    // Every object needing it was sent exactly once across both runs, the second only after the saved key.
    expect([...firstKeys, ...secondKeys].sort()).toEqual(Object.keys(EXPECTED_REASONS).sort());
    expect(secondKeys.every((key) => key > saved.after.key)).toBe(true);
    expect(second.json<ReconcileJson>().matched).toBeLessThan(7);
    expect(existsSync(state)).toBe(false);

    const otherPrefix = await runOps(['reconcile', '--prefix', 'in/', '--state', state], { env: pipelineEnv(resources) });
    expect(otherPrefix.exitCode).toBe(0);
  });

  it('refuses a state file written for another sweep', async () => {
    const resources = await silentStack(clients);
    const state = join(folder, 'other.json');
    writeSweepState(state, { version: 1, sweep: `s3://${resources.rawBucket}/in/`, after: { key: 'in/half.jsonl' } });

    const mismatch = await runOps(['reconcile', '--prefix', 'elsewhere/', '--state', state], { env: pipelineEnv(resources) });

    expect(mismatch.exitCode).toBe(2);
    expect(mismatch.stderr).toContain(`is for "s3://${resources.rawBucket}/in/", not "s3://${resources.rawBucket}/elsewhere/"`);
  });

  it('without --json names each object sent, reason and key, then the counts and what was checked', async () => {
    const { resources } = await everyCase();

    const run = await runOps(['reconcile'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const keyLines = lines.slice(0, 6).map((line) => /^(\w+) +(.+)$/.exec(line)?.slice(1));
    expect(Object.fromEntries(keyLines.map((pair) => [pair?.[1], pair?.[0]]))).toEqual(EXPECTED_REASONS);
    expect(lines.slice(6)).toEqual([
      'listed 8, matched 7: current 1, missing 2, stale 1, incomplete 3; sent 6 (the keys above)',
      `checked s3://${resources.rawBucket}/`,
    ]);
    expect((await queuedMessages(clients, resources.queueUrl)).map((message) => message.key).sort()).toEqual(Object.keys(EXPECTED_REASONS).sort());
  });

  it('--json still prints one summary line when the run fails before it sweeps (a raw bucket that does not exist, no endpoint)', async () => {
    const resources = await silentStack(clients);
    const failures = [
      await runOps(['reconcile', '--raw-bucket', 'nope-no-such-raw-bucket', '--json'], { env: pipelineEnv(resources) }),
      // Nothing listens on port 9 (discard): connection refused.
      await runOps(['reconcile', '--json'], { env: { ...pipelineEnv(resources), AWS_ENDPOINT_URL: 'http://127.0.0.1:9' } }),
      await runOps(['reconcile', '--inventory', `s3://${resources.processedBucket}/no/manifest.json`, '--json'], { env: pipelineEnv(resources) }),
    ];

    for (const run of failures) {
      expect(run.exitCode).toBe(1);
      expect(run.stdout.trim().split('\n')).toHaveLength(1);
      const report = run.json<ReconcileJson & { error: string }>();
      expect(report).toMatchObject({ listed: 0, excluded: 0, matched: 0, current: 0, missing: 0, stale: 0, incomplete: 0, unprocessable: 0, sent: 0, stoppedBy: 'failed' });
      expect(report.error).not.toContain('\n');
      expect(run.stderr.trim().split('\n')).toEqual([`error: ${report.error}`]);
    }
    expect(failures[0]?.json<{ error: string }>().error).toContain('NoSuchBucket');
    expect(failures[1]?.json<{ error: string }>().error).toContain('ECONNREFUSED');
  });

  it('names the inventory manifest that is not there', async () => {
    const resources = await silentStack(clients);

    const run = await runOps(['reconcile', '--inventory', `s3://${resources.processedBucket}/no/manifest.json`], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim()).toBe(`error: no inventory manifest at s3://${resources.processedBucket}/no/manifest.json (S3 answered NoSuchKey)`);
  });

  it('--json prints the summary line on a configuration error too, with exit 2', async () => {
    const resources = await silentStack(clients);

    const run = await runOps(['reconcile', '--since', 'yesterday', '--json'], { env: pipelineEnv(resources) });

    expect(run.exitCode).toBe(2);
    expect(run.json<ReconcileJson & { error: string }>()).toMatchObject({ listed: 0, sent: 0, stoppedBy: 'failed', error: expect.stringContaining('--since') });
  });

  it('refuses a processed or rejected bucket that does not exist, naming it and its setting, before classifying or sending anything', async () => {
    const resources = await silentStack(clients);
    await putRaw(clients, resources.rawBucket, 'in/a.jsonl', '{}\n');

    const flag = await runOps(['reconcile', '--processed-bucket', 'nope-no-such-processed'], { env: pipelineEnv(resources) });
    const variable = await runOps(['reconcile', '--json'], { env: { ...pipelineEnv(resources), PROCESSED_BUCKET: 'nope-no-such-processed' } });
    const rejected = await runOps(['reconcile'], { env: { ...pipelineEnv(resources), REJECTED_BUCKET: 'nope-no-such-rejected' } });

    expect(flag.exitCode).toBe(1);
    expect(flag.stdout).toBe('');
    expect(flag.stderr.trim().split('\n')).toEqual(['error: the output bucket nope-no-such-processed (--processed-bucket or PROCESSED_BUCKET) does not exist; nothing was checked or sent']);
    expect(variable.exitCode).toBe(1);
    expect(variable.json<ReconcileJson>()).toMatchObject({ stoppedBy: 'failed', missing: 0, sent: 0 });
    expect(rejected.exitCode).toBe(1);
    expect(rejected.stderr).toContain('nope-no-such-rejected (REJECTED_BUCKET) does not exist');
    expect(await queuedMessages(clients, resources.queueUrl)).toEqual([]);
  });

  it('--exclude-prefix leaves keys under it out (never checked nor sent) and counts them as excluded', async () => {
    const resources = await silentStack(clients);
    for (const key of ['archive/in/a.jsonl', 'archive/in/b.jsonl', 'old/c.jsonl', 'in/d.jsonl']) await putRaw(clients, resources.rawBucket, key, '{}\n');

    const run = await runOps(['reconcile', '--exclude-prefix', 'archive/', '--exclude-prefix', 'old/', '--json'], { env: pipelineEnv(resources) });
    const text = await runOps(['reconcile', '--exclude-prefix', 'archive/', '--dry-run'], { env: pipelineEnv(resources) });
    const empty = await runOps(['reconcile', '--exclude-prefix', ''], { env: pipelineEnv(resources) });
    const help = await runOps(['reconcile', '--help']);

    expect(run.exitCode).toBe(0);
    expect(run.json<ReconcileJson>()).toMatchObject({ listed: 4, excluded: 3, matched: 1, missing: 1, sent: 1 });
    expect(objectLines(run.stderr).map((line) => line.key)).toEqual(['in/d.jsonl']);
    expect((await queuedMessages(clients, resources.queueUrl)).map((message) => message.key)).toEqual(['in/d.jsonl']);
    expect(text.stdout).toContain('dry run: listed 4, excluded 2, matched 2:');
    expect(empty.exitCode).toBe(2);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('Those copies are left out only when this command too gets SOURCE_AFTER_SUCCESS=move (and the same archive settings), or when --exclude-prefix names the archive prefix');
  });
});
