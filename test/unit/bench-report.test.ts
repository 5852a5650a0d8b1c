import { describe, expect, it } from '@jest/globals';
import { summariseCpuProfile, sourceOf, type CpuProfile } from '../../ops/bench/cpu-profile.ts';
import { renderTable, targetRows } from '../../ops/bench/report.ts';
import { evaluateTargets } from '../../ops/bench/targets.ts';

describe('renderTable', () => {
  it('aligns columns under a rule and trims trailing spaces', () => {
    const table = renderTable(['a', 'bb'], [['xxx', 'y'], ['z', '']]);

    expect(table).toBe(['a    bb', '---  --', 'xxx  y', 'z'].join('\n'));
  });
});

describe('targetRows', () => {
  it('shows bounds with their unit and n/a for targets that could not be judged', () => {
    const rows = targetRows(evaluateTargets({ latency: { p50Ms: 12.4, p99Ms: 30 } as never }));

    expect(rows).toContainEqual(['put → output latency, p50', '12 ms', '≤ 150 ms', 'met']);
    expect(rows).toContainEqual(['small files/s, default bound ÷ one at a time', 'n/a', '≥ 6.00×', 'n/a']);
  });
});

describe('sourceOf', () => {
  const root = '/work/app';

  it('names npm packages, Node modules, project files and V8 pseudo-frames', () => {
    expect(sourceOf({ functionName: 'f', url: 'file:///work/app/node_modules/@smithy/core/dist/index.js', lineNumber: 1 }, root)).toBe('@smithy/core');
    expect(sourceOf({ functionName: 'f', url: 'file:///work/app/node_modules/pino/pino.js', lineNumber: 1 }, root)).toBe('pino');
    expect(sourceOf({ functionName: 'f', url: 'node:internal/streams/readable', lineNumber: 1 }, root)).toBe('node:internal/streams/readable');
    expect(sourceOf({ functionName: 'f', url: 'file:///work/app/dist/worker/pipeline.js', lineNumber: 1 }, root)).toBe('dist/worker/pipeline.js');
    expect(sourceOf({ functionName: '(garbage collector)', url: '', lineNumber: -1 }, root)).toBe('(garbage collector)');
    expect(sourceOf({ functionName: 'concat', url: '', lineNumber: -1 }, root)).toBe('(native)');
  });
});

describe('summariseCpuProfile', () => {
  it('gives each sample the time until the next one, leaves idle time out of the shares and ranks by self time', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'evaluateLine', url: 'file:///app/dist/worker/pipeline.js', lineNumber: 38 } },
        { id: 3, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [2, 2, 3, 1],
      timeDeltas: [0, 3_000, 3_000, 1_000],
    };

    const summary = summariseCpuProfile(profile, '/app');

    expect(summary.busyMs).toBe(7);
    expect(summary.idleMs).toBe(3);
    expect(summary.functions).toEqual([
      { name: 'evaluateLine (dist/worker/pipeline.js:39)', selfMs: 6, share: 6 / 7 },
      { name: '(garbage collector)', selfMs: 1, share: 1 / 7 },
    ]);
    expect(summary.sources[0]).toEqual({ name: 'dist/worker/pipeline.js', selfMs: 6, share: 6 / 7 });
  });
});
