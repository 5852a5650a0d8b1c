/**
 * The simulator's shared vocabulary: the scaling policy as the synthesized template states it, a traffic profile,
 * and what one simulated run yields. Each part of the simulator (template-policy.ts, engine.ts and models/,
 * profiles.ts, oracle.ts, report.ts, chart-svg.ts) reads and writes these and nothing else of the others.
 */

/** The per-minute series CloudWatch gets from SQS and Container Insights that the template's alarms and policies read. */
export const SERIES = [
  'visible', // AWS/SQS ApproximateNumberOfMessagesVisible of the ingest queue
  'inFlight', // ApproximateNumberOfMessagesNotVisible
  'delayed', // ApproximateNumberOfMessagesDelayed
  'oldestAgeSeconds', // ApproximateAgeOfOldestMessage
  'received', // NumberOfMessagesReceived
  'deleted', // NumberOfMessagesDeleted
  'dlqVisible', // the DLQ's ApproximateNumberOfMessagesVisible
  'dlqInFlight',
  'dlqDelayed',
  'runningTasks', // ECS/ContainerInsights RunningTaskCount
  'desiredTasks', // DesiredTaskCount
] as const;
export type SeriesName = (typeof SERIES)[number];

export type Statistic = 'Maximum' | 'Minimum' | 'Average' | 'Sum' | 'SampleCount';

/** One entry of a metric-math query list, as in an alarm's Metrics or a target tracking CustomizedMetricSpecification. */
export interface MetricQuery {
  readonly id: string;
  /** A metric of one of the series, with its statistic over the period; absent for an expression. */
  readonly metric?: { readonly series: SeriesName; readonly statistic: Statistic };
  /** CloudWatch metric math over the other queries' ids (IF, FILL, AND, OR, comparisons, + - * /). */
  readonly expression?: string;
  readonly returnData: boolean;
}

export type ComparisonOperator = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';
export type MissingDataTreatment = 'breaching' | 'notBreaching' | 'ignore' | 'missing';

export interface AlarmPolicy {
  /** The template's logical id. */
  readonly id: string;
  readonly queries: readonly MetricQuery[];
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperator;
  readonly treatMissingData: MissingDataTreatment;
  /** Logical ids of the step scaling policies it invokes; empty for an operator alarm. */
  readonly scalingActions: readonly string[];
}

export interface StepAdjustment {
  /** Bounds relative to the alarm threshold, as Application Auto Scaling states them (undefined = unbounded). */
  readonly lower?: number;
  readonly upper?: number;
  readonly adjustment: number;
}

export interface StepScalingPolicy {
  readonly id: string;
  readonly adjustmentType: 'ChangeInCapacity' | 'PercentChangeInCapacity' | 'ExactCapacity';
  readonly cooldownSeconds: number;
  readonly minAdjustmentMagnitude?: number;
  readonly steps: readonly StepAdjustment[];
}

export interface TargetTrackingPolicy {
  readonly id: string;
  readonly targetValue: number;
  readonly queries: readonly MetricQuery[];
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  readonly disableScaleIn: boolean;
}

/** Everything the simulation takes from the synthesized template (template-policy.ts), nothing copied by hand. */
export interface ScalingPolicy {
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly targetTracking: readonly TargetTrackingPolicy[];
  readonly stepPolicies: readonly StepScalingPolicy[];
  /** Every CloudWatch alarm of the stack on these series: the scaling ones and the operator's. */
  readonly alarms: readonly AlarmPolicy[];
  /** The operator alarm on the oldest message's age, and its threshold in seconds. */
  readonly oldestMessageAlarm: { readonly id: string; readonly thresholdSeconds: number };
  readonly queue: { readonly visibilityTimeoutSeconds: number; readonly maxReceiveCount: number; readonly receiveWaitSeconds: number };
  readonly task: {
    readonly cpu: number;
    readonly memoryMiB: number;
    readonly architecture: 'arm64' | 'x86_64';
    readonly minFilesInFlight: number;
    readonly maxFilesInFlight: number;
    readonly shutdownGraceSeconds: number;
  };
}

/** Arrivals per minute (objects put in the raw bucket), with the size of their files. */
export interface TrafficProfile {
  readonly name: string;
  readonly description: string;
  /** arrivalsPerMinute[i] objects arrive, spread evenly, in minute i. */
  readonly arrivalsPerMinute: readonly number[];
  readonly fileBytes: number;
  /** Share of files (0..1) that fail permanently (poison storm). */
  readonly poisonShare: number;
  /** Minutes simulated after the last arrival, so the backlog can drain and the service shrink. */
  readonly drainMinutes: number;
}

/** How the simulated worker spends time on a file; from the bench's measurements (ops/bench/RESULTS.md). */
export interface WorkerModel {
  /** Seconds a file takes with no contention: request round trips (GetObject, uploads, delete) and fixed work. */
  readonly secondsPerFileFixed: number;
  /** CPU seconds a file costs whatever its size (requests, parsing the message, opening the outputs). */
  readonly cpuSecondsPerFile: number;
  /** Bytes per CPU-second one vCPU processes (parse, transform, write). */
  readonly bytesPerCpuSecond: number;
  /** Seconds from a scale-out decision to a task receiving messages (image pull, start, health). */
  readonly taskStartSeconds: number;
}

/** One minute of a run, at the minute's end. */
export interface MinuteSample {
  readonly minute: number;
  readonly arrivals: number;
  readonly visible: number;
  readonly inFlight: number;
  readonly oldestAgeSeconds: number;
  readonly runningTasks: number;
  readonly desiredTasks: number;
  readonly deleted: number;
  readonly deadLettered: number;
}

export interface SimulationResult {
  readonly profile: TrafficProfile;
  readonly minutes: readonly MinuteSample[];
  /** Alarm id → the minutes it went into ALARM. */
  readonly alarmsFired: Readonly<Record<string, readonly number[]>>;
  /** Σ running tasks × seconds ÷ 3600. */
  readonly taskHours: number;
  /** SQS API requests made (receives, deletes, visibility changes, sends to the DLQ). */
  readonly sqsRequests: number;
}
