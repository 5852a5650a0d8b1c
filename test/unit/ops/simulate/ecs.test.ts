import { describe, expect, it } from '@jest/globals';
import { EcsService } from '../../../../ops/simulate/models/ecs.ts';

function service(busy: Set<number>) {
  return new EcsService({ taskStartSeconds: 75, shutdownGraceSeconds: 25, holdsMessages: (id) => busy.has(id) });
}

const states = (ecs: EcsService) => ecs.tasks.map((task) => task.state);

describe('EcsService', () => {
  it('starts new tasks pending, running only after the task start time', () => {
    const ecs = service(new Set());
    ecs.setDesired(2, 100);
    expect(states(ecs)).toEqual(['pending', 'pending']);
    expect({ running: ecs.runningCount, desired: ecs.desired, billed: ecs.billedCount }).toEqual({ running: 0, desired: 2, billed: 2 });
    ecs.tick(174);
    expect(ecs.runningCount).toBe(0);
    ecs.tick(175);
    expect(states(ecs)).toEqual(['running', 'running']);
    expect(ecs.receivingTaskIds()).toEqual([0, 1]);
  });

  it('stops idle tasks on scale-in and keeps a protected busy task running above the desired count', () => {
    const busy = new Set<number>();
    const ecs = service(busy);
    ecs.setDesired(3, 0);
    ecs.tick(75);
    busy.add(0);
    busy.add(1);
    ecs.setDesired(1, 100);
    // Only task 2 holds nothing: it is the one stopped; 0 and 1 stay, one more than desired.
    expect(ecs.tasks.map((task) => [task.id, task.state])).toEqual([
      [0, 'running'],
      [1, 'running'],
      [2, 'stopping'],
    ]);
    ecs.tick(101);
    expect(ecs.tasks.map((task) => task.id)).toEqual([0, 1]);
    expect({ running: ecs.runningCount, desired: ecs.desired }).toEqual({ running: 2, desired: 1 });

    // Once task 1 lets go of its messages, the service stops it.
    busy.delete(1);
    ecs.tick(200);
    expect(ecs.tasks.map((task) => [task.id, task.state])).toEqual([
      [0, 'running'],
      [1, 'stopping'],
    ]);
    ecs.tick(201);
    expect(ecs.tasks.map((task) => task.id)).toEqual([0]);
  });

  it('can start with a deployed service’s tasks already running', () => {
    const ecs = new EcsService({ taskStartSeconds: 75, shutdownGraceSeconds: 25, holdsMessages: () => false, initialTasks: 2 });
    expect({ running: ecs.runningCount, desired: ecs.desired }).toEqual({ running: 2, desired: 2 });
    ecs.setDesired(3, 10);
    expect(ecs.tasks.map((task) => [task.id, task.state])).toEqual([
      [0, 'running'],
      [1, 'running'],
      [2, 'pending'],
    ]);
  });

  it('removes pending tasks before running ones on scale-in', () => {
    const ecs = service(new Set());
    ecs.setDesired(1, 0);
    ecs.tick(75);
    ecs.setDesired(3, 80);
    ecs.setDesired(1, 90);
    expect(ecs.tasks.map((task) => [task.id, task.state])).toEqual([[0, 'running']]);
  });

  it('lets a stopping task finish its files until the shutdown grace ends, then reports its files to release', () => {
    const busy = new Set<number>();
    const ecs = service(busy);
    ecs.setDesired(1, 0);
    ecs.tick(75);
    ecs.setDesired(0, 100);
    expect(states(ecs)).toEqual(['stopping']);
    // It received a file just before SIGTERM: it keeps it through the grace.
    busy.add(0);
    expect(ecs.tick(124)).toEqual([]);
    expect(ecs.runningCount).toBe(1);
    expect(ecs.receivingTaskIds()).toEqual([]);
    expect(ecs.tick(125)).toEqual([{ id: 0, graceEnded: true }]);
    expect(ecs.tasks).toEqual([]);
  });

  it('stops a stopping task as soon as its files are done', () => {
    const busy = new Set<number>([0]);
    const ecs = service(busy);
    ecs.setDesired(1, 0);
    ecs.tick(75);
    busy.delete(0);
    ecs.setDesired(0, 100);
    busy.add(0);
    ecs.tick(105);
    busy.delete(0);
    expect(ecs.tick(110)).toEqual([{ id: 0, graceEnded: false }]);
  });
});
