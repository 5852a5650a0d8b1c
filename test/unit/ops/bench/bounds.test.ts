import { describe, expect, it } from '@jest/globals';
import { cpuBoundFilesPerSecond, cpuVsComputeAndIo } from '../../../../ops/bench/bounds.ts';
import type { BenchResults, SmallFilesRun } from '../../../../ops/bench/results.ts';

function run(overrides: Partial<SmallFilesRun>): SmallFilesRun {
  return {
    label: 'run',
    settings: {},
    workers: 1,
    files: 2000,
    seconds: 8,
    filesPerSecond: 250,
    putSeconds: 3.5,
    filesPerWorker: [2000],
    workerCpuSeconds: 7,
    emulatorCpuSeconds: 4,
    benchCpuSeconds: 1,
    cores: 2,
    warningLines: 0,
    ...overrides,
  };
}

describe('cpuBoundFilesPerSecond', () => {
  it('is the cores divided by the CPU seconds every process spent per file', () => {
    // 12 CPU s for 2,000 files is 6 ms a file; two cores do 2 / 0.006 files a second.
    expect(cpuBoundFilesPerSecond(run({}))).toBeCloseTo(333.33, 2);
    expect(cpuBoundFilesPerSecond(run({ cores: 4 }))).toBeCloseTo(666.67, 2);
  });

  it('is null when /proc gave no CPU figure for the workers or the emulator', () => {
    expect(cpuBoundFilesPerSecond(run({ workerCpuSeconds: null }))).toBeNull();
    expect(cpuBoundFilesPerSecond(run({ emulatorCpuSeconds: null }))).toBeNull();
  });
});

describe('cpuVsComputeAndIo', () => {
  const results = {
    computeFloor: { records: 1_000_000, cpuSecondsPerMillionRecords: 1.08 },
    ioFloor: { clientCpuSeconds: 0.52 },
    largeFile: { cpuSecondsPerMillionRecords: 1.76 },
  } as unknown as BenchResults;

  it("divides the worker's CPU per record by the compute floor's plus the I/O floor's", () => {
    expect(cpuVsComputeAndIo(results)).toBeCloseTo(1.1, 5);
  });

  it('scales the I/O floor, measured over the whole file, to a million records', () => {
    const halfMillion = { ...results, computeFloor: { records: 500_000, cpuSecondsPerMillionRecords: 1.08 } } as unknown as BenchResults;
    expect(cpuVsComputeAndIo(halfMillion)).toBeCloseTo(1.76 / (1.08 + 1.04), 5);
  });

  it('is null when a scenario it needs did not run', () => {
    expect(cpuVsComputeAndIo({ ...results, ioFloor: undefined })).toBeNull();
    expect(cpuVsComputeAndIo({ ...results, largeFile: undefined })).toBeNull();
  });
});
