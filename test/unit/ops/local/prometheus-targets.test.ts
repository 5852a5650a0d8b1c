import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_PROMETHEUS_TARGETS_FILE, scrapeTarget, targetsDocument, writeFileAtomically } from '../../../../ops/local/prometheus-targets.ts';

describe('scrapeTarget', () => {
  it('is the host and the port the worker really listens on, a moved one included', () => {
    expect(scrapeTarget('http://127.0.0.1:8080')).toBe('127.0.0.1:8080');
    expect(scrapeTarget('http://127.0.0.1:18080')).toBe('127.0.0.1:18080');
    expect(scrapeTarget('http://[::1]:9000')).toBe('[::1]:9000');
  });

  it('scrapes a worker listening on every interface through loopback', () => {
    expect(scrapeTarget('http://0.0.0.0:18080')).toBe('127.0.0.1:18080');
    expect(scrapeTarget('http://[::]:18080')).toBe('[::1]:18080');
  });

  it('refuses an address without a port rather than guess one', () => {
    expect(() => scrapeTarget('http://127.0.0.1')).toThrow(/no port/);
  });
});

describe('targetsDocument', () => {
  it('is a file_sd list with one target group', () => {
    expect(JSON.parse(targetsDocument('127.0.0.1:18080'))).toEqual([{ targets: ['127.0.0.1:18080'], labels: {} }]);
  });
});

describe('the default target file', () => {
  it('lies next to ops/observability/prometheus.yml, under the name that file reads', async () => {
    expect(DEFAULT_PROMETHEUS_TARGETS_FILE).toMatch(/\/ops\/observability\/local-worker-targets\.json$/);
    const config = await readFile(new URL('../../../../ops/observability/prometheus.yml', import.meta.url), 'utf8');
    expect(config).toMatch(/file_sd_configs:\n\s+- files:\n(\s+#.*\n)*\s+- local-worker-targets\.json\n/);
  });
});

describe('writeFileAtomically', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'iot-ingest-targets-'));
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('replaces the file whole and leaves no temporary file behind', async () => {
    const file = join(folder, 'targets.json');
    await writeFile(file, 'old');

    await writeFileAtomically(file, targetsDocument('127.0.0.1:1'));
    await writeFileAtomically(file, targetsDocument('127.0.0.1:2'));

    expect(await readFile(file, 'utf8')).toBe(targetsDocument('127.0.0.1:2'));
    expect(await readdir(folder)).toEqual(['targets.json']);
  });

  it('fails, leaving nothing behind, when the folder does not exist', async () => {
    await expect(writeFileAtomically(join(folder, 'missing', 'targets.json'), 'x')).rejects.toThrow(/ENOENT/);
    expect(await readdir(folder)).toEqual([]);
  });
});
