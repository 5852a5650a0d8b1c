import { describe, expect, it } from '@jest/globals';
import { SqsQueue } from '../../../../ops/simulate/models/sqs.ts';
import {
  BENCH_WORKER_MODEL,
  CPU_SATURATION,
  cpuUtilization,
  nextFilesInFlightBound,
  secondsPerFile,
  WorkerTask,
  type FileKind,
  type WorkerModelWithFileCpu,
  type WorkerTaskSettings,
} from '../../../../ops/simulate/models/worker.ts';

const MODEL: WorkerModelWithFileCpu = { secondsPerFileFixed: 0.1, cpuSecondsPerFile: 0, bytesPerCpuSecond: 1_000_000, taskStartSeconds: 60 };
const TASK = { cpu: 1024, memoryMiB: 2048, architecture: 'arm64', minFilesInFlight: 4, maxFilesInFlight: 4, shutdownGraceSeconds: 25 } as const;

function settings(overrides: Partial<WorkerTaskSettings> = {}): WorkerTaskSettings {
  return {
    model: MODEL,
    fileBytes: 400_000,
    task: TASK,
    visibilityTimeoutSeconds: 60,
    heartbeatIntervalSeconds: 20,
    receiveWaitSeconds: 20,
    receiveLoops: 1,
    poisonFate: 'retryUntilRedrive',
    ...overrides,
  };
}

describe('secondsPerFile', () => {
  it('is the fixed time plus the bytes at the CPU rate when the file has a vCPU to itself', () => {
    expect(secondsPerFile(MODEL, 400_000, 1, 1)).toBeCloseTo(0.1 + 0.4, 9);
    expect(secondsPerFile(MODEL, 400_000, 2, 2)).toBeCloseTo(0.5, 9);
  });

  it('shares the task’s vCPUs among its files in flight', () => {
    // 4 files on 1 vCPU: each gets a quarter, so its 0.4 CPU s take 1.6 s.
    expect(secondsPerFile(MODEL, 400_000, 1, 4)).toBeCloseTo(0.1 + 1.6, 9);
    expect(secondsPerFile(MODEL, 400_000, 2, 4)).toBeCloseTo(0.1 + 0.8, 9);
  });

  it('adds the per-file CPU of the bench model', () => {
    const expected = BENCH_WORKER_MODEL.secondsPerFileFixed + (BENCH_WORKER_MODEL.cpuSecondsPerFile ?? 0) + 1e6 / BENCH_WORKER_MODEL.bytesPerCpuSecond;
    expect(secondsPerFile(BENCH_WORKER_MODEL, 1e6, 1, 1)).toBeCloseTo(expected, 9);
  });
});

describe('the adaptive bound', () => {
  it('doubles towards the ceiling while the task fills it and its CPU has room, and holds when saturated', () => {
    expect(nextFilesInFlightBound(8, { min: 8, max: 128 }, true, 0.2)).toBe(16);
    expect(nextFilesInFlightBound(100, { min: 8, max: 128 }, true, 0.2)).toBe(128);
    expect(nextFilesInFlightBound(16, { min: 8, max: 128 }, false, 0.2)).toBe(16);
    expect(nextFilesInFlightBound(16, { min: 8, max: 128 }, true, CPU_SATURATION)).toBe(16);
  });

  it('reads CPU utilization from the model: near one when the bytes dominate', () => {
    expect(cpuUtilization(MODEL, 400_000, 1, 1)).toBeCloseTo(0.4 / 0.5, 9);
    expect(cpuUtilization(MODEL, 400_000, 1, 4)).toBeCloseTo((4 / 1.7) * 0.4, 9);
  });
});

describe('WorkerTask', () => {
  it('finishes and deletes its files at the model’s pace, refilling slots within a step', () => {
    // 0.2 s a file, one at a time: five files a second.
    const queue = new SqsQueue<FileKind>(5);
    const task = new WorkerTask(settings({ fileBytes: 100_000, task: { ...TASK, minFilesInFlight: 1, maxFilesInFlight: 1 } }));
    queue.send(20, 0, 'file');
    // Files end at 0.2, 0.4, … s; the one ending at 1 s belongs to the next step.
    task.step(0, 1, queue, true);
    expect(task.completed).toBe(4);
    task.step(1, 1, queue, true);
    expect(task.completed).toBe(9);
    expect(queue.takeCounters()).toEqual({ received: 10, deleted: 9, deadLettered: 0 });
    expect(queue.requests.deleteMessageBatch).toBe(9);
  });

  it('fails a poison file at once, its message back after the visibility timeout, and in the DLQ after maxReceiveCount receives', () => {
    const queue = new SqsQueue<FileKind>(2);
    const task = new WorkerTask(settings());
    queue.send(1, 0, 'poison');
    task.step(0, 1, queue, true);
    expect({ failed: task.failed, held: task.filesInFlight, inFlight: queue.inFlightCount }).toEqual({ failed: 1, held: 0, inFlight: 1 });
    for (let now = 1; now < 60; now += 1) task.step(now, 1, queue, true);
    expect(task.failed).toBe(1);
    task.step(60, 1, queue, true);
    expect(task.failed).toBe(2);
    task.step(120, 1, queue, true);
    expect({ failed: task.failed, dlq: queue.deadLetterCount, inQueue: queue.visibleCount + queue.inFlightCount }).toEqual({ failed: 2, dlq: 1, inQueue: 0 });
  });

  it('reports the files × seconds it held in a step, so short files show in the in-flight series', () => {
    // 0.2 s a file, one slot, three files: held 0.6 s of the 1 s step.
    const queue = new SqsQueue<FileKind>(5);
    const task = new WorkerTask(settings({ fileBytes: 100_000, task: { ...TASK, minFilesInFlight: 1, maxFilesInFlight: 1 } }));
    queue.send(3, 0, 'file');
    task.step(0, 1, queue, true);
    expect(task.heldFileSeconds).toBeCloseTo(0.6, 9);
    expect(task.filesInFlight).toBe(0);
  });

  it('by default dead-letters a poison file itself on its first receive, as the worker does with a permanent failure', () => {
    const queue = new SqsQueue<FileKind>(5);
    const task = new WorkerTask(settings({ poisonFate: 'deadLetterAtOnce' }));
    queue.send(2, 0, 'poison');
    task.step(0, 1, queue, true);
    expect({ failed: task.failed, dlq: queue.deadLetterCount, inQueue: queue.visibleCount + queue.inFlightCount }).toEqual({ failed: 2, dlq: 2, inQueue: 0 });
    expect(queue.takeCounters()).toEqual({ received: 2, deleted: 2, deadLettered: 2 });
    expect(queue.requests.sendMessageToDeadLetterQueue).toBe(2);
  });

  it('renews the visibility of a file longer than the timeout, so it is not received twice', () => {
    // 0.1 + 100 s a file; timeout 60 s, heartbeat every 20 s.
    const queue = new SqsQueue<FileKind>(5);
    const task = new WorkerTask(settings({ fileBytes: 100_000_000, task: { ...TASK, minFilesInFlight: 1, maxFilesInFlight: 1 } }));
    queue.send(1, 0, 'file');
    for (let now = 0; now <= 101; now += 1) task.step(now, 1, queue, true);
    expect(task.completed).toBe(1);
    expect(queue.takeCounters()).toEqual({ received: 1, deleted: 1, deadLettered: 0 });
    expect(queue.requests.changeMessageVisibility).toBe(5);
  });

  it('holds its messages while working, and releases them at once when told to', () => {
    const queue = new SqsQueue<FileKind>(5);
    const task = new WorkerTask(settings({ fileBytes: 100_000_000 }));
    queue.send(3, 0, 'file');
    task.step(0, 1, queue, true);
    expect(task.holdsMessages).toBe(true);
    task.release(30, queue);
    expect(task.holdsMessages).toBe(false);
    expect({ visible: queue.visibleCount, inFlight: queue.inFlightCount }).toEqual({ visible: 3, inFlight: 0 });
  });

  it('does not receive once told to stop, and finishes what it holds', () => {
    const queue = new SqsQueue<FileKind>(5);
    const task = new WorkerTask(settings({ fileBytes: 100_000 }));
    queue.send(10, 0, 'file');
    task.step(0, 0.1, queue, true);
    expect(task.filesInFlight).toBe(4);
    task.step(0.1, 5, queue, false);
    expect({ completed: task.completed, held: task.filesInFlight, visible: queue.visibleCount }).toEqual({ completed: 4, held: 0, visible: 6 });
  });
});
