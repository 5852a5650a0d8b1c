import { describe, expect, it } from '@jest/globals';
import type { RunDescription } from '../../../../ops/bench/report.ts';
import { markdownTable, renderResultsMarkdown, type BenchRun } from '../../../../ops/bench/results-file.ts';
import type { BenchResults } from '../../../../ops/bench/results.ts';
import { evaluateTargets } from '../../../../ops/bench/targets.ts';
import { FULL_SIZES } from '../../../../ops/bench/sizes.ts';

describe('markdownTable', () => {
  it('writes a header, a rule and one row per line, with empty cells for missing ones and | escaped', () => {
    const table = markdownTable(['a', 'b'], [['x|y', '1'], ['z']]);

    expect(table).toBe(['| a | b |', '| --- | --- |', '| x\\|y | 1 |', '| z |  |'].join('\n'));
  });
});

const description: RunDescription = {
  mode: 'full',
  command: 'npm run bench',
  date: '2026-12-03T10:00:00.000Z',
  machine: '2 × AMD EPYC 7B13, 23.5 GiB, Linux 6.8.0, Node v24.21.0',
  workerRuntime: 'dist/worker/main.js, NODE_ENV=production, NODE_OPTIONS="--max-semi-space-size=2"',
  changedSettings: ['HTTP_HOST=127.0.0.1 HTTP_PORT=0', 'OUTPUT_FORMAT=parquet in scenario 9'],
  failures: [],
};
const results: BenchResults = {
  latency: { files: 200, filesPerSecond: 20, p50Ms: 9.2, p99Ms: 21, maxMs: 30, meanMs: 10, workerDurationP50Ms: 5 },
};
const run: BenchRun = {
  description,
  results,
  targets: evaluateTargets(results, FULL_SIZES),
  loads: [{ scenario: '7 latency', wallSeconds: 12, otherCpuSeconds: 0.24, otherShare: 0.01, stealSeconds: 0 }],
  profiles: [],
  wallSeconds: 123.45,
};

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`no section ${heading}`);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

describe('renderResultsMarkdown', () => {
  const markdown = renderResultsMarkdown(run);

  it('names the command, the date, the machine (CPU, cores, Node), the worker runtime, the changed settings and the wall time', () => {
    expect(markdown.startsWith('# Bench results\n')).toBe(true);
    expect(markdown).toContain('- Command: `npm run bench` (full run)\n');
    expect(markdown).toContain('- Date: 2026-12-03T10:00:00.000Z\n');
    expect(markdown).toContain('- Machine: 2 × AMD EPYC 7B13, 23.5 GiB, Linux 6.8.0, Node v24.21.0\n');
    expect(markdown).toContain('- Worker: dist/worker/main.js, NODE_ENV=production, NODE_OPTIONS="--max-semi-space-size=2"\n');
    expect(markdown).toContain('- Changed from production defaults:\n  - HTTP_HOST=127.0.0.1 HTTP_PORT=0\n  - OUTPUT_FORMAT=parquet in scenario 9\n');
    expect(markdown).toContain('- Bench wall time: 123.5 s\n');
  });

  it('puts the figures, the targets and the load in Markdown tables', () => {
    expect(section(markdown, 'Figures')).toContain(
      ['| scenario | figure | value |', '| --- | --- | --- |', '| 7 latency | files, rate | 200 at 20/s |'].join('\n'),
    );
    expect(section(markdown, 'Figures')).toContain('|  | put → output p50 / p99 / max | 9 / 21 / 30 ms (mean 10) |');
    expect(section(markdown, 'Targets')).toContain('| put → output latency, p50 | 9 ms | ≤ 150 ms | met |');
    expect(section(markdown, 'Targets')).toContain('| small files/s, default bound ÷ one at a time | n/a | ≥ 6.00× | n/a |');
    expect(section(markdown, 'Other load on the machine')).toContain('| 7 latency | 12.00 s | 0.24 s (1 % of the cores) | 0.00 s |');
  });

  it('explains how to read the figures, without figures of its own', () => {
    const reading = section(markdown, 'Reading the figures');

    expect(reading).toContain('The floors bound the worker');
    expect(reading).not.toMatch(/\d+(\.\d+)? ?(ms|MB|MiB|records\/s|files\/s)\b/);
  });

  it('lists failed scenarios before the figures, and has no failure or profile section when there were none', () => {
    expect(markdown).not.toContain('## Failed scenarios');
    expect(markdown).not.toContain('## CPU profiles');

    const failed = renderResultsMarkdown({ ...run, description: { ...description, failures: [{ scenario: '5 many small files', error: 'timed out\nstack' }] } });

    expect(section(failed, 'Failed scenarios')).toContain('- 5 many small files: timed out\n');
    expect(failed.indexOf('## Failed scenarios')).toBeLessThan(failed.indexOf('## Figures'));
  });

  it('shows CPU profiles as text blocks', () => {
    const profile = { what: 'the large-file worker (scenario 3)', file: 'p/large-file/x.cpuprofile', busyMs: 1500, idleMs: 500, sources: [], functions: [] };

    const profiled = renderResultsMarkdown({ ...run, profiles: [profile] });

    expect(section(profiled, 'CPU profiles')).toContain('```text\nCPU profile of the large-file worker (scenario 3): 1.50 s busy, 0.50 s idle (p/large-file/x.cpuprofile)\n');
  });

  it('ends with one newline', () => {
    expect(markdown.endsWith('.\n')).toBe(true);
  });
});
