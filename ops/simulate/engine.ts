/**
 * The simulation loop: the profile's arrivals go into the queue, the service's tasks work on them, the queue
 * and the service publish their series to CloudWatch every step, and once a minute Application Auto Scaling
 * reads them and sets the desired count. Everything is aggregated (cohorts of messages, groups of files), so a
 * week of steady traffic or a backfill of a million objects runs in seconds.
 */
import { receiveLoopCount } from '../../worker/queue/receive-loop.ts';
import { ScalingController } from './models/autoscaling.ts';
import { AlarmModel, DEFAULT_PUBLISH_DELAY_SECONDS, MetricStore } from './models/cloudwatch.ts';
import { EcsService } from './models/ecs.ts';
import { SqsQueue } from './models/sqs.ts';
import { WorkerTask, type FileKind, type PoisonFate, type WorkerTaskSettings } from './models/worker.ts';
import type { MinuteSample, ScalingPolicy, SeriesName, SimulationResult, TrafficProfile, WorkerModel } from './types.ts';

export interface SimulateOptions {
  /** Seconds per step; divides 60. @default 1 */
  readonly stepSeconds?: number;
  /** What becomes of a file that fails permanently. @default 'deadLetterAtOnce', what the worker does */
  readonly poisonFate?: PoisonFate;
  /** Per series, how late CloudWatch has a datapoint. @default none: the CloudWatch model's own */
  readonly publishDelaySeconds?: Partial<Record<SeriesName, number>>;
}

const SECONDS_PER_MINUTE = 60;

/** The worker's default HEARTBEAT_INTERVAL_SECONDS: a third of the visibility timeout, at least 1 s (worker/config.ts). */
export function heartbeatIntervalSeconds(visibilityTimeoutSeconds: number): number {
  return Math.max(1, Math.floor(visibilityTimeoutSeconds / 3));
}

/** Objects sent by `seconds` into `minute`: the minute's arrivals spread evenly, whole objects only. */
class ArrivalClock {
  private readonly perMinute: readonly number[];
  private readonly poisonShare: number;
  private before = 0;
  private minute = -1;
  private sentSoFar = 0;

  constructor(profile: TrafficProfile) {
    this.perMinute = profile.arrivalsPerMinute;
    this.poisonShare = profile.poisonShare;
  }

  /** Files and poison files arriving in [minute:seconds, minute:seconds + stepSeconds). */
  next(minute: number, seconds: number, stepSeconds: number): { readonly files: number; readonly poison: number } {
    if (minute !== this.minute) {
      for (let passed = Math.max(0, this.minute); passed < minute; passed += 1) this.before += this.perMinute[passed] ?? 0;
      this.minute = minute;
    }
    const inMinute = this.perMinute[minute] ?? 0;
    const end = seconds + stepSeconds;
    const sentBy = Math.floor(this.before + (end >= SECONDS_PER_MINUTE ? inMinute : (inMinute * end) / SECONDS_PER_MINUTE));
    const total = sentBy - this.sentSoFar;
    const poison = Math.floor(sentBy * this.poisonShare) - Math.floor(this.sentSoFar * this.poisonShare);
    this.sentSoFar = sentBy;
    return { files: total - poison, poison };
  }
}

export function simulate(
  policy: ScalingPolicy,
  profile: TrafficProfile,
  worker: WorkerModel,
  options: SimulateOptions = {},
): SimulationResult {
  const stepSeconds = options.stepSeconds ?? 1;
  if (!(stepSeconds > 0) || SECONDS_PER_MINUTE % stepSeconds !== 0) throw new RangeError(`stepSeconds must divide 60, not ${stepSeconds}`);
  const totalMinutes = profile.arrivalsPerMinute.length + profile.drainMinutes;
  const visibilityTimeoutSeconds = policy.queue.visibilityTimeoutSeconds;

  const queue = new SqsQueue<FileKind>(policy.queue.maxReceiveCount);
  const workers = new Map<number, WorkerTask>();
  const ecs = new EcsService({
    taskStartSeconds: worker.taskStartSeconds,
    shutdownGraceSeconds: policy.task.shutdownGraceSeconds,
    holdsMessages: (taskId) => workers.get(taskId)?.holdsMessages ?? false,
    // The service is deployed before the traffic starts: its minimum already runs.
    initialTasks: policy.minTasks,
  });
  const workerSettings: WorkerTaskSettings = {
    model: worker,
    fileBytes: profile.fileBytes,
    task: policy.task,
    visibilityTimeoutSeconds,
    heartbeatIntervalSeconds: heartbeatIntervalSeconds(visibilityTimeoutSeconds),
    receiveWaitSeconds: policy.queue.receiveWaitSeconds,
    receiveLoops: receiveLoopCount(policy.task.maxFilesInFlight),
    poisonFate: options.poisonFate ?? 'deadLetterAtOnce',
  };
  const store = new MetricStore(options.publishDelaySeconds ?? {});
  const controller = new ScalingController(policy, DEFAULT_PUBLISH_DELAY_SECONDS);
  // The scaling alarms are the controller's own, evaluated by it; the operator's alarms are evaluated here.
  const operatorAlarms = policy.alarms.filter((alarm) => alarm.scalingActions.length === 0).map((alarm) => new AlarmModel(alarm, DEFAULT_PUBLISH_DELAY_SECONDS));
  const templateAlarmIds = new Set(policy.alarms.map((alarm) => alarm.id));
  const alarms = [...controller.alarms.filter((model) => templateAlarmIds.has(model.policy.id)), ...operatorAlarms];
  const arrivals = new ArrivalClock(profile);

  const minutes: MinuteSample[] = [];
  let billedTaskSeconds = 0;
  let rotation = 0;

  for (let minute = 0; minute < totalMinutes; minute += 1) {
    let minuteArrivals = 0;
    let minuteDeleted = 0;
    let minuteDeadLettered = 0;
    for (let seconds = 0; seconds < SECONDS_PER_MINUTE; seconds += stepSeconds) {
      const now = minute * SECONDS_PER_MINUTE + seconds;
      const arriving = arrivals.next(minute, seconds, stepSeconds);
      queue.send(arriving.files, now, 'file');
      queue.send(arriving.poison, now, 'poison');
      minuteArrivals += arriving.files + arriving.poison;
      queue.advance(now);

      for (const stopped of ecs.tick(now)) {
        if (stopped.graceEnded) workers.get(stopped.id)?.release(now, queue);
        workers.delete(stopped.id);
      }
      let heldAtEnd = 0;
      let heldFileSeconds = 0;
      const tasks = ecs.tasks;
      // SQS spreads messages over every poller; a fixed order would starve the last tasks.
      rotation = (rotation + 1) % Math.max(1, tasks.length);
      for (let index = 0; index < tasks.length; index += 1) {
        const ecsTask = tasks[(index + rotation) % tasks.length];
        if (ecsTask === undefined || ecsTask.state === 'pending') continue;
        let task = workers.get(ecsTask.id);
        if (task === undefined) {
          task = new WorkerTask(workerSettings);
          workers.set(ecsTask.id, task);
        }
        task.step(now, stepSeconds, queue, ecsTask.state === 'running');
        heldAtEnd += task.filesInFlight;
        heldFileSeconds += task.heldFileSeconds;
      }
      // A file of 0.1 s is in flight for a tenth of the step: the series reads the step's average, as a sample
      // at a random instant would, not the count at its end (which would never see short files).
      const inFlight = queue.inFlightCount - heldAtEnd + heldFileSeconds / stepSeconds;

      const counters = queue.takeCounters();
      minuteDeleted += counters.deleted;
      minuteDeadLettered += counters.deadLettered;
      billedTaskSeconds += ecs.billedCount * stepSeconds;
      store.record('visible', now, queue.visibleCount);
      store.record('inFlight', now, inFlight);
      store.record('delayed', now, queue.delayedCount);
      store.record('oldestAgeSeconds', now, queue.oldestAgeSeconds(now));
      store.record('received', now, counters.received);
      store.record('deleted', now, counters.deleted);
      store.record('dlqVisible', now, queue.deadLetterCount);
      store.record('dlqInFlight', now, 0);
      store.record('dlqDelayed', now, 0);
      store.record('runningTasks', now, ecs.runningCount);
      store.record('desiredTasks', now, ecs.desired);
    }

    const minuteEnd = (minute + 1) * SECONDS_PER_MINUTE;
    for (const alarm of operatorAlarms) alarm.evaluate(store, minuteEnd);
    const decision = controller.tick(minuteEnd, store, ecs.desired);
    ecs.setDesired(decision.desired, minuteEnd);
    minutes.push({
      minute,
      arrivals: minuteArrivals,
      visible: queue.visibleCount,
      inFlight: queue.inFlightCount,
      oldestAgeSeconds: queue.oldestAgeSeconds(minuteEnd),
      runningTasks: ecs.runningCount,
      desiredTasks: ecs.desired,
      deleted: minuteDeleted,
      deadLettered: minuteDeadLettered,
    });
  }

  return {
    profile,
    minutes,
    alarmsFired: Object.fromEntries(alarms.map((alarm) => [alarm.policy.id, [...alarm.transitions]])),
    // Fargate bills from the image pull to the task's stop: pending and stopping tasks count.
    taskHours: billedTaskSeconds / 3600,
    sqsRequests: queue.totalRequests,
  };
}
