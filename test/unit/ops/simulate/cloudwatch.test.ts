import { describe, expect, it } from '@jest/globals';
import { AlarmModel, queryDatapoint, MetricStore, nextAlarmState, type AlarmState, type RangePoint } from '../../../../ops/simulate/models/cloudwatch.ts';
import type { AlarmPolicy, MissingDataTreatment } from '../../../../ops/simulate/types.ts';

/** The documentation's notation, oldest first: 0 not breaching, X breaching, - missing. Returned newest first. */
function range(points: string): RangePoint[] {
  return points
    .split(' ')
    .map((point) => (point === '-' ? undefined : point === 'X'))
    .reverse();
}

const TREATMENTS: readonly MissingDataTreatment[] = ['missing', 'ignore', 'breaching', 'notBreaching'];
const RETAIN = 'retain';
type Expected = AlarmState | typeof RETAIN;

function expectRow(points: string, evaluationPeriods: number, datapointsToAlarm: number, expected: readonly Expected[]): void {
  TREATMENTS.forEach((treatment, index) => {
    for (const current of ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const) {
      const want = expected[index] === RETAIN ? current : expected[index];
      expect({ points, treatment, current, state: nextAlarmState(range(points), evaluationPeriods, datapointsToAlarm, treatment, current) }).toEqual({
        points,
        treatment,
        current,
        state: want,
      });
    }
  });
}

describe('nextAlarmState: the tables of "How alarm state is evaluated when data is missing"', () => {
  // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-evaluating-missing-data
  // Columns: MISSING, IGNORE, BREACHING, NOT BREACHING.
  it('3 of 3 over an evaluation range of 5', () => {
    expectRow('0 - X - X', 3, 3, ['OK', 'OK', 'OK', 'OK']);
    expectRow('0 - - - -', 3, 3, ['OK', 'OK', 'OK', 'OK']);
    expectRow('- - - - -', 3, 3, ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']);
    expectRow('0 X X - X', 3, 3, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('- - - - X', 3, 3, ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']);
    expectRow('X - - - -', 3, 3, ['ALARM', RETAIN, 'ALARM', 'OK']);
  });

  it('2 of 3 over an evaluation range of 5', () => {
    expectRow('0 - X - X', 3, 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('0 0 X 0 X', 3, 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('0 - X - -', 3, 2, ['OK', 'OK', 'ALARM', 'OK']);
    expectRow('- - - - 0', 3, 2, ['OK', 'OK', 'ALARM', 'OK']);
    expectRow('- - - - X', 3, 2, ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']);
  });

  it('evaluates only the N most recent real datapoints when there are enough', () => {
    // The old non-breaching datapoint falls out of the window once three newer real ones exist.
    expectRow('0 X X X -', 3, 3, ['ALARM', 'ALARM', 'ALARM', 'ALARM']);
    expectRow('X X 0 X X', 3, 3, ['OK', 'OK', 'OK', 'OK']);
  });
});

describe('MetricStore', () => {
  it('hides a datapoint until its period has ended and the publish delay has passed', () => {
    const store = new MetricStore({ visible: 90 });
    for (let second = 0; second < 60; second++) store.record('visible', second, 5);
    expect(store.datapoint('visible', 'Maximum', 0, 60, 60)).toBeUndefined();
    expect(store.datapoint('visible', 'Maximum', 0, 60, 149)).toBeUndefined();
    expect(store.datapoint('visible', 'Maximum', 0, 60, 150)).toBe(5);
  });

  it('delays a series it was given no delay for by 60 s', () => {
    const store = new MetricStore({});
    store.record('runningTasks', 10, 2);
    expect(store.datapoint('runningTasks', 'Average', 0, 60, 119)).toBeUndefined();
    expect(store.datapoint('runningTasks', 'Average', 0, 60, 120)).toBe(2);
  });

  it('computes each statistic over the period and only over it', () => {
    const store = new MetricStore({ deleted: 0 });
    const samples = [3, 1, 4, 1, 5, 9, 2, 6];
    // Two per minute over minutes 1..4; minute 0 and 5 hold values that must not leak in.
    store.record('deleted', 59, 100);
    samples.forEach((value, index) => store.record('deleted', 60 + index * 30, value));
    store.record('deleted', 300, 100);
    const now = 10_000;
    expect(store.datapoint('deleted', 'Sum', 60, 240, now)).toBe(31);
    expect(store.datapoint('deleted', 'Maximum', 60, 240, now)).toBe(9);
    expect(store.datapoint('deleted', 'Minimum', 60, 240, now)).toBe(1);
    expect(store.datapoint('deleted', 'SampleCount', 60, 240, now)).toBe(8);
    expect(store.datapoint('deleted', 'Average', 60, 240, now)).toBeCloseTo(31 / 8);
    expect(store.datapoint('deleted', 'Sum', 60, 60, now)).toBe(4);
  });

  it('has no datapoint for a period without samples', () => {
    const store = new MetricStore({ visible: 0 });
    store.record('visible', 0, 1);
    expect(store.datapoint('visible', 'Maximum', 120, 60, 1000)).toBeUndefined();
    expect(store.datapoint('inFlight', 'Maximum', 0, 60, 1000)).toBeUndefined();
  });

  it('refuses periods that are not whole minutes', () => {
    const store = new MetricStore({});
    expect(() => store.datapoint('visible', 'Maximum', 30, 60, 1000)).toThrow('whole minutes');
  });
});

function alarm(overrides: Partial<AlarmPolicy>): AlarmPolicy {
  return {
    id: 'Test',
    queries: [{ id: 'm', metric: { series: 'visible', statistic: 'Maximum' }, returnData: true }],
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    threshold: 10,
    comparison: 'GreaterThanThreshold',
    treatMissingData: 'missing',
    scalingActions: [],
    ...overrides,
  };
}

/** Records one value per minute (every second of it) for the given minutes. */
function recordMinutes(store: MetricStore, values: readonly (number | undefined)[]): void {
  values.forEach((value, minute) => {
    if (value === undefined) return;
    for (let second = 0; second < 60; second++) store.record('visible', minute * 60 + second, value);
  });
}

describe('AlarmModel', () => {
  it('starts in INSUFFICIENT_DATA and goes to ALARM after M of N breaching periods', () => {
    const store = new MetricStore({ visible: 0 });
    const model = new AlarmModel(alarm({ evaluationPeriods: 3, datapointsToAlarm: 2 }));
    expect(model.state).toBe('INSUFFICIENT_DATA');
    recordMinutes(store, [0, 20, 0, 20]);
    expect(model.evaluate(store, 60)).toBe('OK'); // [0]: one real, not breaching
    expect(model.evaluate(store, 120)).toBe('OK'); // [0, 20]: 1 breaching of 2
    expect(model.evaluate(store, 180)).toBe('OK'); // [0, 20, 0]
    expect(model.evaluate(store, 240)).toBe('ALARM'); // [20, 0, 20]: 2 of 3
    expect(model.transitions).toEqual([4]);
  });

  it('does not alarm on N-1 breaching periods of an N of N alarm', () => {
    const store = new MetricStore({ visible: 0 });
    const model = new AlarmModel(alarm({}));
    recordMinutes(store, [0, 20, 20, 0, 20, 20, 20]);
    const states = [60, 120, 180, 240, 300, 360, 420].map((now) => model.evaluate(store, now));
    expect(states).toEqual(['OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'ALARM']);
  });

  it('sees a period only once its publish delay has passed', () => {
    const store = new MetricStore({ visible: 120 });
    const model = new AlarmModel(alarm({ evaluationPeriods: 1, datapointsToAlarm: 1 }));
    recordMinutes(store, [20]);
    expect(model.evaluate(store, 60)).toBe('INSUFFICIENT_DATA');
    expect(model.evaluate(store, 120)).toBe('INSUFFICIENT_DATA');
    expect(model.evaluate(store, 180)).toBe('ALARM');
  });

  it('records each transition into ALARM once, in minutes', () => {
    const store = new MetricStore({ visible: 0 });
    const model = new AlarmModel(alarm({ evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: 'notBreaching' }));
    recordMinutes(store, [20, 20, 0, 20]);
    for (const now of [60, 120, 180, 240]) model.evaluate(store, now);
    expect(model.transitions).toEqual([1, 4]);
  });

  it('evaluates an expression with FILL for the returned query', () => {
    const store = new MetricStore({ visible: 0 });
    const idle = alarm({
      queries: [
        { id: 'visible', metric: { series: 'visible', statistic: 'Maximum' }, returnData: false },
        { id: 'inFlight', metric: { series: 'inFlight', statistic: 'Maximum' }, returnData: false },
        { id: 'total', expression: 'FILL(visible, 0) + FILL(inFlight, 0)', returnData: true },
      ],
      threshold: 0,
      comparison: 'LessThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
    const model = new AlarmModel(idle);
    recordMinutes(store, [0, 0, 0]);
    // inFlight is never recorded: FILL makes it 0, so the three minutes are idle.
    expect(model.evaluate(store, 180)).toBe('ALARM');
  });

  it('evaluates an expression listed before the metrics it reads, as the synthesized alarms list them', () => {
    const store = new MetricStore({ visible: 0, inFlight: 0 });
    const busy = alarm({
      queries: [
        { id: 'total', expression: 'FILL(visible, 0) + FILL(inFlight, 0)', returnData: true },
        { id: 'visible', metric: { series: 'visible', statistic: 'Maximum' }, returnData: false },
        { id: 'inFlight', metric: { series: 'inFlight', statistic: 'Maximum' }, returnData: false },
      ],
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 0,
      comparison: 'LessThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
    const model = new AlarmModel(busy);
    recordMinutes(store, [20]);
    // 20 visible messages: not idle. Read in list order the metrics would still be missing and FILL would make 0.
    expect(model.evaluate(store, 60)).toBe('OK');
  });

  it('evaluates chained expressions by what they name, whatever their order', () => {
    const store = new MetricStore({ visible: 0 });
    recordMinutes(store, [30]);
    const chained = [
      { id: 'total', expression: 'share * 100', returnData: true },
      { id: 'share', expression: 'a / 60', returnData: false },
      { id: 'a', metric: { series: 'visible' as const, statistic: 'Maximum' as const }, returnData: false },
    ];
    expect(queryDatapoint(chained, store, 0, 60, 60)).toBe(50);
  });

  it('with data published a minute late, evaluates a minute behind: a 1-of-1 alarm over FILL still fires', () => {
    const dlqNotEmpty = alarm({
      queries: [
        { id: 'total', expression: 'FILL(visible, 0)', returnData: true },
        { id: 'visible', metric: { series: 'visible', statistic: 'Maximum' }, returnData: false },
      ],
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 1,
      comparison: 'GreaterThanOrEqualToThreshold',
      treatMissingData: 'notBreaching',
    });
    const store = new MetricStore({ visible: 60 });
    recordMinutes(store, [0, 3, 3]);
    const onTheClock = new AlarmModel(dlqNotEmpty);
    const behind = new AlarmModel(dlqNotEmpty, 60);
    for (const now of [60, 120, 180]) {
      onTheClock.evaluate(store, now);
      behind.evaluate(store, now);
    }
    // On the clock the newest minute is never published yet, and FILL makes it 0.
    expect(onTheClock.transitions).toEqual([]);
    expect(behind.transitions).toEqual([3]);
  });

  it('rejects datapointsToAlarm above evaluationPeriods', () => {
    expect(() => new AlarmModel(alarm({ evaluationPeriods: 2, datapointsToAlarm: 3 }))).toThrow('datapointsToAlarm');
  });
});
