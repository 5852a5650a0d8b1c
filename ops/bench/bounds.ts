/**
 * What this machine allows, from the same run's figures: the yardsticks that tell a missed target that
 * is the worker's fault from one that the machine sets. Pure.
 */
import type { BenchResults, SmallFilesRun } from './results.ts';
import { ratio } from './statistics.ts';

/**
 * Worker CPU per record ÷ (compute floor's + I/O floor's client CPU per record): near 1 when the worker
 * costs what processing and moving the bytes cost, and nothing for queues, streams and bookkeeping.
 */
export function cpuVsComputeAndIo(results: BenchResults): number | null {
  const { largeFile, computeFloor, ioFloor } = results;
  if (largeFile === undefined || computeFloor === undefined || ioFloor === undefined) return null;
  const ioPerMillion = (ioFloor.clientCpuSeconds / computeFloor.records) * 1e6;
  return ratio(largeFile.cpuSecondsPerMillionRecords, computeFloor.cpuSecondsPerMillionRecords + ioPerMillion);
}

/**
 * Files/s at which the CPU the run used (workers, emulator and bench together) would fill every core:
 * no bound on files in flight and no number of worker processes gets past it on this machine.
 */
export function cpuBoundFilesPerSecond(run: SmallFilesRun): number | null {
  if (run.workerCpuSeconds === null || run.emulatorCpuSeconds === null) return null;
  const cpuSecondsPerFile = (run.workerCpuSeconds + run.emulatorCpuSeconds + run.benchCpuSeconds) / run.files;
  return ratio(run.cores, cpuSecondsPerFile);
}
