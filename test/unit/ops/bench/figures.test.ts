import { describe, expect, it } from '@jest/globals';
import { otherLoadBetween, parseMachineTicks, parseOwnTreeTicks, parseStatCpuTicks, parseStatusBytes } from '../../../../ops/bench/process-stats.ts';
import { cpuSecondsPerMillion, mean, mostAtOnce, percentile, ratio } from '../../../../ops/bench/statistics.ts';

describe('percentile', () => {
  it('takes the nearest rank: p50 of 1..200 is 100, p99 is 198', () => {
    const values = Array.from({ length: 200 }, (_, index) => 200 - index);

    expect(percentile(values, 50)).toBe(100);
    expect(percentile(values, 99)).toBe(198);
    expect(percentile(values, 100)).toBe(200);
  });

  it('gives the only value for a single sample, and the maximum as p99 of few samples', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([5, 1, 9, 3], 99)).toBe(9);
  });

  it('refuses no values and a p outside 0..100', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('mean, ratio and cpuSecondsPerMillion', () => {
  it('computes them, with null for missing inputs or a zero divisor', () => {
    expect(mean([1, 2, 6])).toBe(3);
    expect(ratio(3, 2)).toBe(1.5);
    expect(ratio(null, 2)).toBeNull();
    expect(ratio(3, 0)).toBeNull();
    expect(cpuSecondsPerMillion(2, 500_000)).toBe(4);
    expect(cpuSecondsPerMillion(null, 10)).toBeNull();
  });
});

describe('/proc parsers', () => {
  it('adds utime and stime, even when the command name holds spaces and parentheses', () => {
    // Fields: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 37 0 0 20 0 11 0';

    expect(parseStatCpuTicks(stat)).toBe(287);
  });

  it('reads VmHWM and VmRSS in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  180224 kB\nVmRSS:\t   90112 kB\n';

    expect(parseStatusBytes(status, 'VmHWM')).toBe(180_224 * 1024);
    expect(parseStatusBytes(status, 'VmRSS')).toBe(90_112 * 1024);
    expect(parseStatusBytes('Name:\tnode\n', 'VmHWM')).toBeUndefined();
  });
});

describe('machine load parsers', () => {
  it('counts user, nice, system, irq and softirq as busy, and steal apart', () => {
    const procStat = 'cpu  100 5 50 9000 7 3 2 11 0 0\ncpu0 50 2 25 4500 3 1 1 5 0 0\n';

    expect(parseMachineTicks(procStat)).toEqual({ busy: 160, steal: 11 });
  });

  it("adds a process's own and its reaped children's CPU ticks", () => {
    const stat = '7 (node) S 1 7 7 0 -1 4194560 1000 0 0 0 250 37 40 3 20 0 11 0';

    expect(parseOwnTreeTicks(stat)).toBe(330);
  });

  it('takes what the bench used out of what the machine used, never below zero', () => {
    const before = { machineBusySeconds: 100, stealSeconds: 1, ownSeconds: 10 };

    expect(otherLoadBetween(before, { machineBusySeconds: 130, stealSeconds: 3, ownSeconds: 30 })).toEqual({ otherCpuSeconds: 10, stealSeconds: 2 });
    expect(otherLoadBetween(before, { machineBusySeconds: 110, stealSeconds: 1, ownSeconds: 30 })?.otherCpuSeconds).toBe(0);
    expect(otherLoadBetween(null, before)).toBeNull();
  });
});

describe('mostAtOnce', () => {
  it('counts the most intervals open at one moment', () => {
    const intervals = [
      { startMs: 0, endMs: 10 },
      { startMs: 2, endMs: 5 },
      { startMs: 4, endMs: 12 },
      { startMs: 11, endMs: 20 },
    ];

    expect(mostAtOnce(intervals)).toBe(3);
  });

  it('does not count an interval that ends as another starts as overlapping it, and gives 0 for none', () => {
    expect(mostAtOnce([{ startMs: 0, endMs: 5 }, { startMs: 5, endMs: 9 }])).toBe(1);
    expect(mostAtOnce([])).toBe(0);
  });
});
