/**
 * One worker task's files: it takes messages into its free file slots, works on them, deletes each group of
 * messages as its files finish, renews the visibility of what it holds, and releases it when its shutdown grace
 * runs out. Aggregated: the messages of one receive are one group that finishes together.
 *
 * A file takes `secondsPerFileFixed + cpuSeconds / share`, where cpuSeconds is what the file costs one vCPU and
 * the share is the task's vCPUs (cpu / 1024) divided among the files in flight, never more than one vCPU per
 * file (a file is one stream in one Node.js thread). The bound on files in flight starts at
 * ScalingPolicy.task.minFilesInFlight and doubles each second in which the task filled it while its CPU stayed
 * below CPU_SATURATION, up to maxFilesInFlight: the worker's adaptive bound in a simple form (slow start on a
 * signal of spare CPU, worker/queue/adaptive-concurrency.ts), without its memory and event-loop limits.
 */
import type { ScalingPolicy, WorkerModel } from '../types.ts';
import type { ReceivedSlice, SqsQueue } from './sqs.ts';

/** The model with its per-file CPU cost: the same as WorkerModel, which has the field (types.ts). */
export type WorkerModelWithFileCpu = WorkerModel;

/**
 * The bench's measurements (ops/bench/RESULTS.md, run of 2026-12-02, 2 × Xeon, Node 24):
 * - secondsPerFileFixed 0.09: scenario 10, "fixed 1" at 20 ms per request does 10.5 small files/s, 95 ms a file,
 *   of which 4.3 ms is the worker's CPU ("CPU per file: worker 4.3 ms"), the rest the requests' round trips
 *   (at 60 ms per request 3.8 files/s = 263 ms: about 4.2 round trips a file). 20 ms is a typical in-region S3
 *   or SQS request.
 * - cpuSecondsPerFile 0.0043: the same scenario's "CPU per file: worker 4.3 ms" at every delay.
 * - bytesPerCpuSecond 80e6: scenario 3, 153.2 MB of input in 1.92 worker CPU s (79.8 MB per CPU second; scenario
 *   8's 1000 MB in 11.98 CPU s gives 83.5). A Fargate vCPU is assumed as fast as one of the bench's cores.
 * - taskStartSeconds 75: not measured by the bench (npm start to ready is 0.74 s, scenario 12). A Fargate task
 *   is provisioned, gets its ENI attached and pulls its image before it starts, with no image cache
 *   (https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/task.html, "Speeding up task launch");
 *   AWS gives no figure, and about a minute to a minute and a half is what users report: 75 s is an assumption.
 */
export const BENCH_WORKER_MODEL: WorkerModelWithFileCpu = {
  secondsPerFileFixed: 0.09,
  cpuSecondsPerFile: 0.0043,
  bytesPerCpuSecond: 80e6,
  taskStartSeconds: 75,
};

/** Above this share of its vCPUs busy, the bound on files in flight stops growing. */
export const CPU_SATURATION = 0.9;

/** vCPUs of a task of `cpu` units. */
export const vCpusOf = (cpu: number): number => cpu / 1024;

/** CPU seconds one file costs: its bytes plus the per-file cost. */
export function cpuSecondsOfFile(model: WorkerModelWithFileCpu, fileBytes: number): number {
  return model.cpuSecondsPerFile + fileBytes / model.bytesPerCpuSecond;
}

/** Seconds one file takes with `filesInFlight` files (itself included) sharing the task's vCPUs. */
export function secondsPerFile(model: WorkerModelWithFileCpu, fileBytes: number, vCpus: number, filesInFlight: number): number {
  const share = Math.min(1, vCpus / Math.max(1, filesInFlight));
  return model.secondsPerFileFixed + cpuSecondsOfFile(model, fileBytes) / share;
}

/** Share of the task's vCPUs busy with `filesInFlight` files in flight, each starting as the last ends. */
export function cpuUtilization(model: WorkerModelWithFileCpu, fileBytes: number, vCpus: number, filesInFlight: number): number {
  if (filesInFlight <= 0) return 0;
  const filesPerSecond = filesInFlight / secondsPerFile(model, fileBytes, vCpus, filesInFlight);
  return (filesPerSecond * cpuSecondsOfFile(model, fileBytes)) / vCpus;
}

/** The adaptive bound after a second: doubled (up to the ceiling) when the task filled it and its CPU has room. */
export function nextFilesInFlightBound(
  bound: number,
  limits: { readonly min: number; readonly max: number },
  filled: boolean,
  utilizationAtBound: number,
): number {
  if (!filled || utilizationAtBound >= CPU_SATURATION) return Math.max(limits.min, Math.min(limits.max, bound));
  return Math.min(limits.max, bound * 2);
}

/** Finish times on a grid, so that five files of 0.2 s end at 1 s, not at 1.0000000000000002 (in the next step). */
const onMicrosecondGrid = (seconds: number): number => Math.round(seconds * 1e6) / 1e6;

/** What a file's message carries in the simulation: whether the file fails permanently. */
export type FileKind = 'file' | 'poison';

/**
 * What the worker does with a file that fails permanently:
 * - deadLetterAtOnce: what the worker does (worker/queue/message-fate.ts: a PermanentFileError's fate is
 *   deadLetter): a copy goes to the DLQ with the reason and the message is deleted, on its first receive;
 * - retryUntilRedrive: the message is left in flight and comes back when its visibility timeout ends, until the
 *   queue's redrive policy moves it to the DLQ after maxReceiveCount receives (a failure that looks transient
 *   every time, retried by SQS alone).
 */
export const POISON_FATES = ['deadLetterAtOnce', 'retryUntilRedrive'] as const;
export type PoisonFate = (typeof POISON_FATES)[number];

export interface WorkerTaskSettings {
  readonly model: WorkerModelWithFileCpu;
  readonly fileBytes: number;
  readonly task: ScalingPolicy['task'];
  readonly visibilityTimeoutSeconds: number;
  /** The worker's default HEARTBEAT_INTERVAL_SECONDS: a third of the visibility timeout (worker/config.ts). */
  readonly heartbeatIntervalSeconds: number;
  readonly receiveWaitSeconds: number;
  /** The worker's receive loops: each idle one is a long poll every receiveWaitSeconds. */
  readonly receiveLoops: number;
  readonly poisonFate: PoisonFate;
}

interface FileGroup {
  readonly slices: readonly ReceivedSlice<FileKind>[];
  readonly count: number;
  readonly receivedAt: number;
  readonly finishAt: number;
  nextRenewalAt: number;
}

export class WorkerTask {
  private readonly settings: WorkerTaskSettings;
  private readonly vCpus: number;
  private groups: FileGroup[] = [];
  private held = 0;
  private bound: number;
  private filledThisStep = false;
  private pollUntil = -Infinity;
  /** Files finished (and deleted) so far. */
  completed = 0;
  /** Poison files that failed so far (each receive of one). */
  failed = 0;
  /** Files × seconds held during the last step: its average files in flight × its length. */
  heldFileSeconds = 0;

  constructor(settings: WorkerTaskSettings) {
    this.settings = settings;
    this.vCpus = vCpusOf(settings.task.cpu);
    this.bound = settings.task.minFilesInFlight;
    if (settings.model.secondsPerFileFixed + cpuSecondsOfFile(settings.model, settings.fileBytes) <= 0) {
      throw new RangeError('a file must take some time: secondsPerFileFixed or its CPU seconds must be positive');
    }
  }

  get filesInFlight(): number {
    return this.held;
  }

  get filesInFlightBound(): number {
    return this.bound;
  }

  /** The worker protects its task while it holds messages. */
  get holdsMessages(): boolean {
    return this.held > 0;
  }

  /**
   * The step [now, now + stepSeconds): renew what is due, take messages into free slots, finish the files due
   * within the step (deleting their messages) and refill their slots at once. `receiving` is false once ECS
   * has told the task to stop.
   */
  step(now: number, stepSeconds: number, queue: SqsQueue<FileKind>, receiving: boolean): void {
    const end = now + stepSeconds;
    this.filledThisStep = false;
    this.heldFileSeconds = 0;
    this.renewVisibility(now, queue);
    if (receiving) this.fill(now, queue);
    for (;;) {
      const group = this.nextFinishingBefore(end);
      if (group === undefined) break;
      this.groups = this.groups.filter((candidate) => candidate !== group);
      this.held -= group.count;
      this.completed += group.count;
      this.heldFileSeconds += group.count * (group.finishAt - Math.max(group.receivedAt, now));
      queue.deleteBatch(group.slices.map((slice) => ({ slice })));
      if (receiving) this.fill(group.finishAt, queue);
    }
    for (const group of this.groups) this.heldFileSeconds += group.count * (end - Math.max(group.receivedAt, now));
    if (receiving) {
      const { minFilesInFlight: min, maxFilesInFlight: max } = this.settings.task;
      const utilization = cpuUtilization(this.settings.model, this.settings.fileBytes, this.vCpus, this.bound);
      this.bound = nextFilesInFlightBound(this.bound, { min, max }, this.filledThisStep, utilization);
    }
  }

  /** The shutdown grace is over: what the task still holds is made visible at once for another task. */
  release(now: number, queue: SqsQueue<FileKind>): void {
    queue.changeVisibility(
      this.groups.flatMap((group) => group.slices),
      now,
      0,
    );
    this.groups = [];
    this.held = 0;
  }

  private fill(at: number, queue: SqsQueue<FileKind>): void {
    queue.advance(at);
    for (;;) {
      const free = this.bound - this.held;
      if (free <= 0) {
        this.filledThisStep = true;
        return;
      }
      if (queue.visibleCount === 0) break;
      const slices = queue.receive(free, at, this.settings.visibilityTimeoutSeconds);
      if (slices.length === 0) break;
      // A poison file fails at once, and its slot is free again.
      const files = slices.filter((slice) => slice.body === 'file');
      const poison = slices.filter((slice) => slice.body === 'poison');
      this.failed += poison.reduce((sum, slice) => sum + slice.count, 0);
      if (poison.length > 0 && this.settings.poisonFate === 'deadLetterAtOnce') queue.deadLetterByWorker(poison);
      const count = files.reduce((sum, slice) => sum + slice.count, 0);
      if (count === 0) continue;
      this.held += count;
      const { model, fileBytes, heartbeatIntervalSeconds } = this.settings;
      this.groups.push({
        slices: files,
        count,
        receivedAt: at,
        finishAt: onMicrosecondGrid(at + secondsPerFile(model, fileBytes, this.vCpus, this.held)),
        nextRenewalAt: at + heartbeatIntervalSeconds,
      });
    }
    if (at >= this.pollUntil) {
      // Idle receive loops: one long poll each, which comes back empty after the wait.
      for (let loop = 0; loop < this.settings.receiveLoops; loop += 1) queue.receive(0, at, this.settings.visibilityTimeoutSeconds);
      this.pollUntil = at + this.settings.receiveWaitSeconds;
    }
  }

  private renewVisibility(now: number, queue: SqsQueue<FileKind>): void {
    const due = this.groups.filter((group) => group.nextRenewalAt <= now);
    if (due.length === 0) return;
    queue.changeVisibility(
      due.flatMap((group) => group.slices),
      now,
      this.settings.visibilityTimeoutSeconds,
    );
    for (const group of due) group.nextRenewalAt = now + this.settings.heartbeatIntervalSeconds;
  }

  private nextFinishingBefore(end: number): FileGroup | undefined {
    let next: FileGroup | undefined;
    for (const group of this.groups) {
      if (group.finishAt < end && (next === undefined || group.finishAt < next.finishAt)) next = group;
    }
    return next;
  }
}
