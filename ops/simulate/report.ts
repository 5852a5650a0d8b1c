/**
 * The simulator's report: per profile, the oldest message's age against the alarm, the backlog and tasks at their
 * peak, what the run cost, the alarms that fired, and the oracle's task-hours for the same age target.
 */
import { costOf, fargateCost, type RunCost } from './cost.ts';
import type { ScalingPolicy, SimulationResult } from './types.ts';

/** The nearest-rank percentile (0 < p ≤ 100) of the values: the smallest value at least p % of them do not exceed. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`a percentile is in (0, 100], not ${p}`);
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

export interface AgeSummary {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** The oldest message's age at the end of each minute of the run, summarized. */
export function ageSummary(result: SimulationResult): AgeSummary {
  const ages = result.minutes.map((sample) => sample.oldestAgeSeconds);
  return { p50: percentile(ages, 50), p99: percentile(ages, 99), max: ages.length === 0 ? 0 : Math.max(...ages) };
}

/** A logical id without the hash CDK appends: MonitoringOldestMessageTooOld16170C83 → MonitoringOldestMessageTooOld. */
export function alarmName(logicalId: string): string {
  return logicalId.replace(/[0-9A-F]{8}$/, '');
}

export interface ProfileReport {
  readonly profile: string;
  readonly description: string;
  readonly files: number;
  readonly minutes: number;
  readonly oldestAgeSeconds: AgeSummary;
  readonly alarmThresholdSeconds: number;
  readonly peakBacklog: number;
  readonly peakTasks: number;
  readonly deadLettered: number;
  readonly cost: RunCost;
  /** Alarm name → how many times it went into ALARM. */
  readonly alarmsFired: Readonly<Record<string, number>>;
  readonly oracle: { readonly taskHours: number; readonly fargateUsd: number };
  /** The policy's Fargate cost ÷ the oracle's (Infinity when the oracle needs no task). */
  readonly costRatio: number;
}

export function profileReport(result: SimulationResult, policy: ScalingPolicy, oracle: { readonly taskHours: number }): ProfileReport {
  const cost = costOf(result, policy);
  const oracleUsd = fargateCost(oracle.taskHours, policy.task).fargateUsd;
  const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);
  return {
    profile: result.profile.name,
    description: result.profile.description,
    files: sum(result.profile.arrivalsPerMinute),
    minutes: result.minutes.length,
    oldestAgeSeconds: ageSummary(result),
    alarmThresholdSeconds: policy.oldestMessageAlarm.thresholdSeconds,
    peakBacklog: Math.max(0, ...result.minutes.map((sample) => sample.visible + sample.inFlight)),
    peakTasks: Math.max(0, ...result.minutes.map((sample) => sample.runningTasks)),
    deadLettered: sum(result.minutes.map((sample) => sample.deadLettered)),
    cost,
    alarmsFired: Object.fromEntries(
      Object.entries(result.alarmsFired)
        .filter(([, minutes]) => minutes.length > 0)
        .map(([id, minutes]) => [alarmName(id), minutes.length]),
    ),
    oracle: { taskHours: oracle.taskHours, fargateUsd: oracleUsd },
    costRatio: oracleUsd > 0 ? cost.fargateUsd / oracleUsd : cost.fargateUsd > 0 ? Infinity : 1,
  };
}

const integer = (value: number): string => Math.round(value).toLocaleString('en-US');
const hours = (value: number): string => value.toFixed(value < 10 ? 2 : 1);
const usd = (value: number): string => `$${value.toFixed(value < 1 ? 3 : 2)}`;

interface Column {
  readonly title: string;
  readonly value: (row: ProfileReport) => string;
  readonly left?: boolean;
}

export const REPORT_COLUMNS: readonly Column[] = [
  { title: 'profile', value: (row) => row.profile, left: true },
  { title: 'files', value: (row) => integer(row.files) },
  { title: 'age p50 s', value: (row) => integer(row.oldestAgeSeconds.p50) },
  { title: 'age p99 s', value: (row) => integer(row.oldestAgeSeconds.p99) },
  { title: 'age max s', value: (row) => `${integer(row.oldestAgeSeconds.max)}${row.oldestAgeSeconds.max > row.alarmThresholdSeconds ? ' !' : ''}` },
  { title: 'alarm s', value: (row) => integer(row.alarmThresholdSeconds) },
  { title: 'peak backlog', value: (row) => integer(row.peakBacklog) },
  { title: 'peak tasks', value: (row) => integer(row.peakTasks) },
  { title: 'task-h', value: (row) => hours(row.cost.taskHours) },
  { title: 'Fargate', value: (row) => usd(row.cost.fargateUsd) },
  { title: 'SQS req', value: (row) => integer(row.cost.sqsRequests) },
  { title: 'SQS', value: (row) => usd(row.cost.sqsUsd) },
  { title: 'DLQ', value: (row) => integer(row.deadLettered) },
  { title: 'oracle task-h', value: (row) => hours(row.oracle.taskHours) },
  { title: 'cost ÷ oracle', value: (row) => (Number.isFinite(row.costRatio) ? `${row.costRatio.toFixed(2)}×` : '∞') },
];

/** The report as a plain-text table, then the alarms that fired per profile. */
export function formatReport(rows: readonly ProfileReport[]): string {
  const cells = rows.map((row) => REPORT_COLUMNS.map((column) => column.value(row)));
  const widths = REPORT_COLUMNS.map((column, index) => Math.max(column.title.length, ...cells.map((line) => line[index]!.length)));
  const line = (values: readonly string[]): string =>
    values
      .map((value, index) => (REPORT_COLUMNS[index]!.left ? value.padEnd(widths[index]!) : value.padStart(widths[index]!)))
      .join('  ')
      .trimEnd();
  const alarms = rows.map((row) => {
    const fired = Object.entries(row.alarmsFired).map(([name, count]) => `${name}${count > 1 ? ` ×${count}` : ''}`);
    return `  ${row.profile}: ${fired.length === 0 ? 'none' : fired.join(', ')}`;
  });
  return [
    line(REPORT_COLUMNS.map((column) => column.title)),
    ...cells.map(line),
    '',
    "age: the oldest message's age at each minute's end ('!' over the OldestMessageTooOld alarm's threshold);",
    'costs at us-east-1 Fargate and SQS list prices; oracle: the fewest task-hours that keep every wait under the threshold.',
    '',
    'alarms that fired:',
    ...alarms,
  ].join('\n');
}
