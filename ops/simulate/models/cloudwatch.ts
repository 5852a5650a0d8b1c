/**
 * CloudWatch as the scaling policies see it: one-minute metrics that arrive late, and metric alarms that
 * evaluate M of N periods with a treatment for missing data.
 */
import { evaluateExpression } from '../metric-math.ts';
import type { AlarmPolicy, ComparisonOperator, MetricQuery, SeriesName, Statistic } from '../types.ts';

const MINUTE = 60;
/** A series not given a delay arrives a minute late (Container Insights is about that; SQS a minute or more). */
export const DEFAULT_PUBLISH_DELAY_SECONDS = 60;

/** Min, max, sum and count of a series' samples in each minute: every period here is whole minutes. */
class MinuteAggregates {
  private readonly min: number[] = [];
  private readonly max: number[] = [];
  private readonly sum: number[] = [];
  private readonly count: number[] = [];

  add(minute: number, value: number): void {
    const count = this.count[minute] ?? 0;
    this.min[minute] = count === 0 ? value : Math.min(this.min[minute]!, value);
    this.max[minute] = count === 0 ? value : Math.max(this.max[minute]!, value);
    this.sum[minute] = (this.sum[minute] ?? 0) + value;
    this.count[minute] = count + 1;
  }

  statistic(statistic: Statistic, firstMinute: number, minutes: number): number | undefined {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let count = 0;
    for (let minute = firstMinute; minute < firstMinute + minutes; minute++) {
      const samples = this.count[minute] ?? 0;
      if (samples === 0) continue;
      min = Math.min(min, this.min[minute]!);
      max = Math.max(max, this.max[minute]!);
      sum += this.sum[minute]!;
      count += samples;
    }
    if (count === 0) return undefined;
    switch (statistic) {
      case 'Minimum':
        return min;
      case 'Maximum':
        return max;
      case 'Sum':
        return sum;
      case 'SampleCount':
        return count;
      case 'Average':
        return sum / count;
    }
  }
}

export class MetricStore {
  private readonly series = new Map<SeriesName, MinuteAggregates>();
  private readonly publishDelaySeconds: Partial<Record<SeriesName, number>>;

  constructor(publishDelaySeconds: Partial<Record<SeriesName, number>>) {
    this.publishDelaySeconds = publishDelaySeconds;
  }

  /** One sample of a series at a simulated second: the instantaneous value, or a counter's count in that second. */
  record(series: SeriesName, nowSeconds: number, value: number): void {
    if (nowSeconds < 0) throw new Error(`cannot record ${series} at negative time ${nowSeconds}`);
    let aggregates = this.series.get(series);
    if (aggregates === undefined) {
      aggregates = new MinuteAggregates();
      this.series.set(series, aggregates);
    }
    aggregates.add(Math.floor(nowSeconds / MINUTE), value);
  }

  /**
   * The statistic over a period's samples as CloudWatch would serve it at nowSeconds: undefined until the
   * period has ended and the series' publish delay has passed, and for a period with no samples.
   */
  datapoint(series: SeriesName, statistic: Statistic, periodStartSeconds: number, periodSeconds: number, nowSeconds: number): number | undefined {
    if (periodStartSeconds % MINUTE !== 0 || periodSeconds % MINUTE !== 0 || periodSeconds <= 0) {
      throw new Error(`periods are whole minutes: start ${periodStartSeconds} s, length ${periodSeconds} s`);
    }
    const delay = this.publishDelaySeconds[series] ?? DEFAULT_PUBLISH_DELAY_SECONDS;
    if (nowSeconds < periodStartSeconds + periodSeconds + delay) return undefined;
    return this.series.get(series)?.statistic(statistic, periodStartSeconds / MINUTE, periodSeconds / MINUTE);
  }
}

/** One period's value of a query list: the query with returnData true, expressions through metric math. */
export function queryDatapoint(
  queries: readonly MetricQuery[],
  store: MetricStore,
  periodStartSeconds: number,
  periodSeconds: number,
  nowSeconds: number,
): number | undefined {
  // A template lists an expression before the metrics it reads as often as after (the alarms' Metrics arrays do):
  // metrics first, then each expression once the expressions it names have a value.
  const values: Record<string, number | undefined> = {};
  const expressions: MetricQuery[] = [];
  for (const query of queries) {
    if (query.metric) values[query.id] = store.datapoint(query.metric.series, query.metric.statistic, periodStartSeconds, periodSeconds, nowSeconds);
    else if (query.expression !== undefined) expressions.push(query);
    else throw new Error(`query ${query.id} has neither a metric nor an expression`);
  }
  const pending = new Set(expressions.map((query) => query.id));
  const namesPending = (expression: string) => (expression.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []).some((name) => pending.has(name));
  while (pending.size > 0) {
    const ready = expressions.filter((query) => pending.has(query.id) && !namesPending(query.expression!));
    if (ready.length === 0) throw new Error(`the expressions ${[...pending].join(', ')} name one another in a cycle`);
    for (const query of ready) {
      values[query.id] = evaluateExpression(query.expression!, values);
      pending.delete(query.id);
    }
  }
  const returned = queries.filter((query) => query.returnData);
  return returned.length === 0 ? undefined : values[returned.at(-1)!.id];
}

/** The start of the most recent whole period that has ended by nowSeconds. */
export function lastEndedPeriodStart(nowSeconds: number, periodSeconds: number): number {
  return Math.floor(nowSeconds / periodSeconds) * periodSeconds - periodSeconds;
}

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

const BREACHES: Readonly<Record<ComparisonOperator, (value: number, threshold: number) => boolean>> = {
  GreaterThanOrEqualToThreshold: (value, threshold) => value >= threshold,
  GreaterThanThreshold: (value, threshold) => value > threshold,
  LessThanThreshold: (value, threshold) => value < threshold,
  LessThanOrEqualToThreshold: (value, threshold) => value <= threshold,
};

/**
 * CloudWatch retrieves more periods than Evaluation Periods (the evaluation range): 5 for an alarm of 3 in the
 * documentation's examples. It does not state the number for other alarms; this keeps the same two extra.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
 */
const EXTRA_PERIODS_IN_EVALUATION_RANGE = 2;

/** One datapoint of the evaluation range, newest first: breaching, not breaching, or missing (undefined). */
export type RangePoint = boolean | undefined;

/**
 * The state an alarm goes to from `current`, given the evaluation range (newest first), per "How alarm state is
 * evaluated when data is missing" (AlarmThatSendsEmail.html#alarms-evaluating-missing-data) and
 * "Avoiding premature transitions to alarm state" (#CloudWatch-alarms-avoiding-premature-transition):
 *
 * - with at least N real datapoints in the range, the N most recent real ones decide, whatever the treatment;
 * - otherwise every real datapoint counts and missing ones fill the rest: `breaching` fills breaching,
 *   `notBreaching` fills not breaching; for `ignore` and `missing` the real datapoints decide when they can
 *   (M breaching → ALARM, any not breaching → OK); when they are all breaching but fewer than M, `ignore`
 *   keeps the current state and `missing` goes to ALARM only if the oldest breaching one is at least M
 *   periods old (the premature-transition rule), else INSUFFICIENT_DATA, as with no real datapoint at all.
 */
export function nextAlarmState(
  range: readonly RangePoint[],
  evaluationPeriods: number,
  datapointsToAlarm: number,
  treatMissingData: AlarmPolicy['treatMissingData'],
  current: AlarmState,
): AlarmState {
  const real = range.filter((point): point is boolean => point !== undefined);
  const decide = (breaching: number): AlarmState => (breaching >= datapointsToAlarm ? 'ALARM' : 'OK');
  if (real.length >= evaluationPeriods) return decide(real.slice(0, evaluationPeriods).filter(Boolean).length);

  const breachingReal = real.filter(Boolean).length;
  const fills = evaluationPeriods - real.length;
  switch (treatMissingData) {
    case 'breaching':
      return decide(breachingReal + fills);
    case 'notBreaching':
      return decide(breachingReal);
    case 'ignore':
    case 'missing': {
      if (breachingReal >= datapointsToAlarm) return 'ALARM';
      if (breachingReal < real.length) return 'OK';
      if (treatMissingData === 'ignore') return current;
      if (real.length === 0) return 'INSUFFICIENT_DATA';
      // Ages count from 1 for the newest period of the range.
      const oldestBreachingAge = range.findLastIndex((point) => point === true) + 1;
      return oldestBreachingAge >= datapointsToAlarm ? 'ALARM' : 'INSUFFICIENT_DATA';
    }
  }
}

export class AlarmModel {
  private current: AlarmState = 'INSUFFICIENT_DATA';
  private readonly alarmMinutes: number[] = [];

  readonly policy: AlarmPolicy;
  /**
   * How far behind the clock the newest evaluated period ends. CloudWatch evaluates an alarm every minute on the
   * newest datapoints it has; with every series published a minute late, evaluating the period that has just
   * ended would always find it missing, and an alarm of 1 of 1 with FILL (the DLQ alarm) could never fire.
   */
  private readonly evaluationLagSeconds: number;

  constructor(policy: AlarmPolicy, evaluationLagSeconds = 0) {
    this.policy = policy;
    this.evaluationLagSeconds = evaluationLagSeconds;
    if (policy.datapointsToAlarm < 1 || policy.datapointsToAlarm > policy.evaluationPeriods) {
      throw new Error(`alarm ${policy.id}: datapointsToAlarm ${policy.datapointsToAlarm} is not within 1..${policy.evaluationPeriods}`);
    }
  }

  /** Evaluates the alarm at nowSeconds (the simulation calls it once a minute) and returns its new state. */
  evaluate(store: MetricStore, nowSeconds: number): AlarmState {
    const { periodSeconds, evaluationPeriods, threshold } = this.policy;
    const breaches = BREACHES[this.policy.comparison];
    const newest = lastEndedPeriodStart(nowSeconds - this.evaluationLagSeconds, periodSeconds);
    const range: RangePoint[] = [];
    for (let index = 0; index < evaluationPeriods + EXTRA_PERIODS_IN_EVALUATION_RANGE; index++) {
      const start = newest - index * periodSeconds;
      const value = start < 0 ? undefined : queryDatapoint(this.policy.queries, store, start, periodSeconds, nowSeconds);
      range.push(value === undefined ? undefined : breaches(value, threshold));
    }
    const next = nextAlarmState(range, evaluationPeriods, this.policy.datapointsToAlarm, this.policy.treatMissingData, this.current);
    if (next === 'ALARM' && this.current !== 'ALARM') this.alarmMinutes.push(Math.floor(nowSeconds / MINUTE));
    this.current = next;
    return next;
  }

  get state(): AlarmState {
    return this.current;
  }

  /** The minutes (simulated seconds ÷ 60) at which the alarm went into ALARM. */
  get transitions(): readonly number[] {
    return this.alarmMinutes;
  }
}
