/**
 * An ECS service's tasks: pending (image pull to ready: WorkerModel.taskStartSeconds), running, and stopping
 * (SIGTERM: the worker finishes the files it holds, for at most the shutdown grace, then releases them).
 *
 * Scale-in honours ECS task scale-in protection, which the worker sets on itself while it holds messages: the
 * service stops only tasks that hold none (pending ones first, then idle running ones), and a protected task
 * keeps running, so the running count may stay above the desired one until its files are done — as the real
 * service does. The service keeps trying: once a task lets go of its messages it is stopped.
 */

export type TaskState = 'pending' | 'running' | 'stopping';

export interface EcsTask {
  readonly id: number;
  readonly state: TaskState;
  /** When a pending task becomes ready to receive. */
  readonly readyAt: number;
  /** When a stopping task's grace ends (SIGKILL); undefined unless stopping. */
  readonly stopDeadline: number | undefined;
}

export interface EcsServiceOptions {
  readonly taskStartSeconds: number;
  readonly shutdownGraceSeconds: number;
  /** Whether the task holds messages: the worker's scale-in protection, and what a stopping task still finishes. */
  readonly holdsMessages: (taskId: number) => boolean;
  /** Tasks running (and desired) from the start: a deployed service at its minimum. @default 0 */
  readonly initialTasks?: number;
}

/** A task gone from the service this tick, and whether its grace ran out with files still held (they must be released). */
export interface StoppedTask {
  readonly id: number;
  readonly graceEnded: boolean;
}

interface MutableTask {
  id: number;
  state: TaskState;
  readyAt: number;
  stopDeadline: number | undefined;
}

export class EcsService {
  private readonly options: EcsServiceOptions;
  private readonly taskList: MutableTask[] = [];
  private nextId = 0;
  private desiredCount = 0;

  constructor(options: EcsServiceOptions) {
    this.options = options;
    this.desiredCount = options.initialTasks ?? 0;
    for (let id = 0; id < this.desiredCount; id += 1) this.taskList.push({ id, state: 'running', readyAt: 0, stopDeadline: undefined });
    this.nextId = this.desiredCount;
  }

  get desired(): number {
    return this.desiredCount;
  }

  get tasks(): readonly EcsTask[] {
    return this.taskList;
  }

  /** Container Insights' RunningTaskCount: tasks whose containers run, those finishing their files after SIGTERM included. */
  get runningCount(): number {
    return this.taskList.length - this.pendingCount;
  }

  get pendingCount(): number {
    let pending = 0;
    for (const task of this.taskList) if (task.state === 'pending') pending += 1;
    return pending;
  }

  /** Tasks Fargate bills: from the image pull to the stop (pending ones included). */
  get billedCount(): number {
    return this.taskList.length;
  }

  /** Ids of the tasks that receive messages: running and not told to stop. */
  receivingTaskIds(): number[] {
    return this.taskList.filter((task) => task.state === 'running').map((task) => task.id);
  }

  /** Ids of the tasks working on files: running or stopping. */
  workingTaskIds(): number[] {
    return this.taskList.filter((task) => task.state !== 'pending').map((task) => task.id);
  }

  setDesired(count: number, now: number): void {
    this.desiredCount = Math.max(0, Math.round(count));
    this.reconcile(now);
  }

  /**
   * Moves time to `now`: pending tasks whose start time has passed run; stopping tasks that hold nothing more,
   * or whose grace ran out, are gone; then the service starts or stops tasks towards the desired count.
   */
  tick(now: number): StoppedTask[] {
    const stopped: StoppedTask[] = [];
    let stopping = 0;
    for (const task of this.taskList) {
      if (task.state === 'pending' && task.readyAt <= now) task.state = 'running';
      if (task.state === 'stopping') stopping += 1;
    }
    for (let index = this.taskList.length - 1; stopping > 0 && index >= 0; index -= 1) {
      const task = this.taskList[index];
      if (task?.state !== 'stopping') continue;
      const holds = this.options.holdsMessages(task.id);
      const graceEnded = (task.stopDeadline ?? now) <= now;
      if (!holds || graceEnded) {
        this.taskList.splice(index, 1);
        stopped.push({ id: task.id, graceEnded: holds });
      }
    }
    this.reconcile(now);
    return stopped;
  }

  private reconcile(now: number): void {
    let activeCount = 0;
    for (const task of this.taskList) if (task.state !== 'stopping') activeCount += 1;
    let excess = activeCount - this.desiredCount;
    if (excess === 0) return;
    if (excess < 0) {
      for (let started = 0; started < -excess; started += 1) {
        this.taskList.push({ id: this.nextId, state: 'pending', readyAt: now + this.options.taskStartSeconds, stopDeadline: undefined });
        this.nextId += 1;
      }
      return;
    }
    const active = this.taskList.filter((task) => task.state !== 'stopping');
    // Newest pending tasks first: they hold nothing and are furthest from serving.
    for (const task of active.filter((candidate) => candidate.state === 'pending').reverse()) {
      if (excess === 0) return;
      this.taskList.splice(this.taskList.indexOf(task), 1);
      excess -= 1;
    }
    for (const task of active.filter((candidate) => candidate.state === 'running')) {
      if (excess === 0) return;
      if (this.options.holdsMessages(task.id)) continue;
      task.state = 'stopping';
      task.stopDeadline = now + this.options.shutdownGraceSeconds;
      excess -= 1;
    }
  }
}
