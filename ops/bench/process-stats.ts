/**
 * A child's own CPU time and peak memory, read from /proc (Linux). The parsers are pure; the readers
 * answer null where there is no /proc.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** utime + stime in clock ticks, from the text of /proc/PID/stat. */
export function parseStatCpuTicks(stat: string): number {
  // The command name is in parentheses and may hold spaces, so count fields after its ')': state is field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${stat.slice(0, 120)}`);
  return utime + stime;
}

/** A `kB` line of /proc/PID/status (VmHWM: peak RSS, VmRSS: RSS now) in bytes, or undefined. */
export function parseStatusBytes(status: string, field: 'VmHWM' | 'VmRSS'): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (ticksPerSecond !== undefined) return ticksPerSecond;
  ticksPerSecond = 100;
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5_000 }).trim());
    if (Number.isInteger(ticks) && ticks > 0) ticksPerSecond = ticks;
  } catch {
    // 100 is what Linux uses nearly everywhere
  }
  return ticksPerSecond;
}

/** CPU seconds the process has used so far (user + system). */
export function cpuSecondsOf(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicksPerSecond();
  } catch {
    return null;
  }
}

export function statusBytesOf(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | null {
  if (pid === undefined) return null;
  try {
    return parseStatusBytes(readFileSync(`/proc/${pid}/status`, 'utf8'), field) ?? null;
  } catch {
    return null;
  }
}

/** Difference of two CPU readings, null if either is missing. */
export function cpuDelta(before: number | null, after: number | null): number | null {
  return before === null || after === null ? null : after - before;
}

/** Busy and stolen clock ticks of the whole machine, from the `cpu` line of /proc/stat. */
export function parseMachineTicks(procStat: string): { busy: number; steal: number } {
  const line = procStat.split('\n').find((text) => text.startsWith('cpu '));
  if (line === undefined) throw new Error('no cpu line in /proc/stat');
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const at = (index: number) => values[index] ?? 0;
  // user nice system idle iowait irq softirq steal ...
  return { busy: at(0) + at(1) + at(2) + at(5) + at(6), steal: at(7) };
}

/** This process's CPU plus that of its children already reaped (utime, stime, cutime, cstime), in ticks. */
export function parseOwnTreeTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0);
}

export interface LoadSnapshot {
  readonly machineBusySeconds: number;
  readonly stealSeconds: number;
  /** The bench, its reaped children and the running processes it was told about. */
  readonly ownSeconds: number;
}

/** For telling how much of the machine other processes took while a scenario ran; null without /proc. */
export function loadSnapshot(runningChildPids: ReadonlyArray<number | undefined>): LoadSnapshot | null {
  try {
    const ticks = clockTicksPerSecond();
    const machine = parseMachineTicks(readFileSync('/proc/stat', 'utf8'));
    let ownSeconds = parseOwnTreeTicks(readFileSync('/proc/self/stat', 'utf8')) / ticks;
    for (const pid of runningChildPids) ownSeconds += cpuSecondsOf(pid) ?? 0;
    return { machineBusySeconds: machine.busy / ticks, stealSeconds: machine.steal / ticks, ownSeconds };
  } catch {
    return null;
  }
}

export interface OtherLoad {
  /** CPU seconds that processes outside the bench used meanwhile. */
  readonly otherCpuSeconds: number;
  /** CPU seconds the hypervisor gave to other machines. */
  readonly stealSeconds: number;
}

export function otherLoadBetween(before: LoadSnapshot | null, after: LoadSnapshot | null): OtherLoad | null {
  if (before === null || after === null) return null;
  const machine = after.machineBusySeconds - before.machineBusySeconds;
  const own = after.ownSeconds - before.ownSeconds;
  return { otherCpuSeconds: Math.max(0, machine - own), stealSeconds: after.stealSeconds - before.stealSeconds };
}
