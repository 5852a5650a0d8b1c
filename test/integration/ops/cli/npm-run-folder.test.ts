import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const PROJECT_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const run = promisify(execFile);

describe('npm run ops from another folder', () => {
  const name = `generated-${process.pid}.jsonl`;
  let folder: string;
  beforeEach(() => {
    folder = mkdtempSync(join(tmpdir(), 'ops-npm-run-'));
  });
  afterEach(() => {
    rmSync(folder, { recursive: true, force: true });
    rmSync(join(PROJECT_ROOT, name), { force: true });
  });

  it('writes a relative path where the user typed the command, not into the project', async () => {
    await run('npm', ['run', '--prefix', PROJECT_ROOT, '-s', 'ops', '--', 'generate', '--records', '3', '-o', name], { cwd: folder, timeout: 60_000 });

    expect(readFileSync(join(folder, name), 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    expect(existsSync(join(PROJECT_ROOT, name))).toBe(false);
  });
});
