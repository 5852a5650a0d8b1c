/**
 * The oracle: the fewest task-hours a controller that knows every future arrival could spend while no file waits
 * longer than the age target. A lower bound on what any scaling policy costs for that target: its tasks start
 * the moment it wants them and work at full capacity, and only the policy's minimum is imposed on it (not its
 * maximum: the oracle shows what meeting the target takes, even where the maximum would forbid it).
 */
import { secondsPerFile, vCpusOf } from './models/worker.ts';
import type { ScalingPolicy, TrafficProfile, WorkerModel } from './types.ts';

const SECONDS_PER_MINUTE = 60;

/**
 * Files one task finishes in a minute at its best: files in flight ÷ seconds per file, with the simulated worker's
 * own seconds per file (models/worker.ts: the fixed round trips, and the file's CPU seconds on its share of the
 * task's vCPUs, at most one vCPU a file). Throughput never falls as files in flight rise, so the best is at the
 * largest bound the worker may reach (maxFilesInFlight); taking minFilesInFlight instead would let the simulated
 * policy, whose adaptive bound grows past it, beat the "lower bound".
 */
export function filesPerTaskMinute(policy: ScalingPolicy, worker: WorkerModel, fileBytes: number): number {
  const vCpus = vCpusOf(policy.task.cpu);
  const perMinute = (filesInFlight: number): number => (filesInFlight / secondsPerFile(worker, fileBytes, vCpus, filesInFlight)) * SECONDS_PER_MINUTE;
  return Math.max(perMinute(policy.task.minFilesInFlight), perMinute(policy.task.maxFilesInFlight));
}

/**
 * Minutes of slack the age target leaves: a file arriving in minute i is taken by the end of minute i + slack,
 * so it has waited at most (slack + 1) minutes (it may have arrived at the minute's start). A target under two
 * minutes leaves no slack: the files are taken in the minute they arrive.
 */
export function slackMinutes(ageTargetSeconds: number): number {
  return Math.max(0, Math.floor(ageTargetSeconds / SECONDS_PER_MINUTE) - 1);
}

/**
 * A fluid computation over minutes. Each minute the oracle runs the fewest whole tasks that take every file
 * whose deadline is this minute (arrived `slack` minutes ago and not taken yet), never fewer than minTasks; those
 * tasks then work for the whole minute on whatever has arrived, oldest first. Taking tasks only when a deadline
 * forces it, and then using all of their minute, is optimal for this model: any schedule must have taken, by each
 * minute, at least the files due by then, and this one takes at least as many files per task-minute paid for as
 * any other (its idle capacity is only the minTasks floor and the rounding up to a whole task). The run lasts the
 * profile's arrivals and its drain minutes, as the simulation does, and longer if files remain.
 */
export function oracleTasks(
  profile: TrafficProfile,
  policy: ScalingPolicy,
  worker: WorkerModel,
  ageTargetSeconds: number,
): { taskHours: number; tasksPerMinute: number[] } {
  const capacity = filesPerTaskMinute(policy, worker, profile.fileBytes);
  if (!(capacity > 0)) throw new RangeError('a task must finish some files in a minute');
  const slack = slackMinutes(ageTargetSeconds);
  const arrivals = profile.arrivalsPerMinute;
  const arrivedBy: number[] = [];
  arrivals.reduce((total, count, minute) => (arrivedBy[minute] = total + count), 0);
  const total = arrivedBy.at(-1) ?? 0;
  const arrivedByEndOf = (minute: number): number => (minute < 0 ? 0 : (arrivedBy[Math.min(minute, arrivedBy.length - 1)] ?? 0));

  const tasksPerMinute: number[] = [];
  let taken = 0;
  // Files are counted as fractions (a fluid); the tolerance keeps 0.9999999 files from costing another task.
  const epsilon = 1e-9;
  for (let minute = 0; minute < arrivals.length + profile.drainMinutes || taken < total - epsilon; minute += 1) {
    const due = Math.max(0, arrivedByEndOf(minute - slack) - taken);
    const tasks = Math.max(policy.minTasks, Math.ceil(due / capacity - epsilon));
    taken = Math.min(arrivedByEndOf(minute), taken + tasks * capacity);
    tasksPerMinute.push(tasks);
  }
  return { taskHours: tasksPerMinute.reduce((sum, tasks) => sum + tasks, 0) / 60, tasksPerMinute };
}
