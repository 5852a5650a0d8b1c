import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PACKAGE_NAME, packageVersionAbove, workerVersion } from '../../../../worker/common/worker-version.ts';

const folder = mkdtempSync(join(tmpdir(), 'worker-version-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('the worker version', () => {
  it('is the version in the project’s package.json when run from source', () => {
    const project = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(workerVersion()).toBe(project.version);
  });

  it('is found above the compiled code as the image lays it out (/app/package.json, /app/dist/worker/common), passing over other packages', () => {
    const app = join(folder, 'app');
    const compiled = join(app, 'dist', 'worker', 'common');
    mkdirSync(compiled, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: PACKAGE_NAME, version: '3.4.5' }));
    writeFileSync(join(app, 'dist', 'package.json'), JSON.stringify({ name: 'something-else', version: '9.9.9' }));
    writeFileSync(join(app, 'dist', 'worker', 'package.json'), '{ not json');

    expect(packageVersionAbove(compiled)).toBe('3.4.5');
  });

  it('fails, naming the folder, when there is no such package.json', () => {
    const lonely = join(folder, 'lonely');
    mkdirSync(lonely);
    expect(() => packageVersionAbove(lonely)).toThrow(`no package.json named ${PACKAGE_NAME}`);
  });
});
