/**
 * The scaling policy as the synthesized CloudFormation template states it: the scalable target's bounds, the
 * scaling policies on it, the alarms on the queue's and the service's metrics, the queue's redrive and the
 * worker task's size and environment. scalingPolicyFromTemplate is pure (template JSON in); synthesizedPolicy
 * builds the CDK app, as `cdk synth -c key=value` would, and reads its template.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stage } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { buildApp } from '../../infra/build-app.ts';
import { projectPath } from '../../infra/project-path.ts';
import type {
  AlarmPolicy,
  ComparisonOperator,
  MetricQuery,
  MissingDataTreatment,
  ScalingPolicy,
  SeriesName,
  Statistic,
  StepAdjustment,
  StepScalingPolicy,
  TargetTrackingPolicy,
} from './types.ts';

type Json = Record<string, unknown>;

export class TemplatePolicyError extends Error {
  override name = 'TemplatePolicyError';
}

/**
 * Defaults CloudFormation applies when a property is absent: Cooldown 300 s for a step policy (the
 * AWS::ApplicationAutoScaling::ScalingPolicy StepScalingPolicyConfiguration reference, "If not specified, the
 * default value is 300"), and for target tracking's ScaleOutCooldown / ScaleInCooldown on an ECS service 300 s
 * (TargetTrackingScalingPolicyConfiguration reference, Application Auto Scaling's default cooldowns for ECS).
 */
const DEFAULT_COOLDOWN_SECONDS = 300;

const SQS_SERIES: Readonly<Record<string, SeriesName>> = {
  ApproximateNumberOfMessagesVisible: 'visible',
  ApproximateNumberOfMessagesNotVisible: 'inFlight',
  ApproximateNumberOfMessagesDelayed: 'delayed',
  ApproximateAgeOfOldestMessage: 'oldestAgeSeconds',
  NumberOfMessagesReceived: 'received',
  NumberOfMessagesDeleted: 'deleted',
};
const DLQ_SERIES: Readonly<Record<string, SeriesName>> = {
  ApproximateNumberOfMessagesVisible: 'dlqVisible',
  ApproximateNumberOfMessagesNotVisible: 'dlqInFlight',
  ApproximateNumberOfMessagesDelayed: 'dlqDelayed',
};
const ECS_SERIES: Readonly<Record<string, SeriesName>> = { RunningTaskCount: 'runningTasks', DesiredTaskCount: 'desiredTasks' };

const STATISTICS: readonly Statistic[] = ['Maximum', 'Minimum', 'Average', 'Sum', 'SampleCount'];
const COMPARISONS: readonly ComparisonOperator[] = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];
const MISSING_DATA: readonly MissingDataTreatment[] = ['breaching', 'notBreaching', 'ignore', 'missing'];

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const list = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);

function objectAt(value: unknown, what: string): Json {
  if (!isObject(value)) throw new TemplatePolicyError(`${what}: expected an object`);
  return value;
}

function numberAt(value: unknown, what: string): number {
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) throw new TemplatePolicyError(`${what}: expected a number, got ${JSON.stringify(value)}`);
  return parsed;
}

function oneOf<T extends string>(value: unknown, choices: readonly T[], what: string): T {
  if (!choices.includes(value as T)) throw new TemplatePolicyError(`${what}: expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** The logical id a `{Ref: id}` or `{Fn::GetAtt: [id, attribute]}` names. */
function referencedId(value: unknown): string | undefined {
  if (!isObject(value)) return undefined;
  if (typeof value['Ref'] === 'string') return value['Ref'];
  const getAtt = value['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
}

class TemplateResources {
  private readonly resources: Readonly<Record<string, Json>>;

  constructor(template: Json) {
    this.resources = objectAt(template['Resources'], 'template Resources') as Record<string, Json>;
  }

  ofType(type: string): readonly (readonly [string, Json])[] {
    return Object.entries(this.resources)
      .filter(([, resource]) => resource['Type'] === type)
      .map(([id, resource]) => [id, objectAt(resource['Properties'] ?? {}, `${id} Properties`)] as const);
  }

  properties(id: string, type: string): Json {
    const resource = this.resources[id];
    if (resource?.['Type'] !== type) throw new TemplatePolicyError(`${id}: expected a ${type} resource`);
    return objectAt(resource['Properties'] ?? {}, `${id} Properties`);
  }
}

/** The resources the policy is about: the scalable target, the worker service's task and cluster, the two queues. */
interface Anchors {
  readonly targetId: string;
  readonly target: Json;
  readonly taskDefinition: Json;
  readonly workerContainer: Json;
  readonly clusterId: string;
  readonly queueId: string;
  readonly deadLetterQueueId: string;
}

function findAnchors(resources: TemplateResources): Anchors {
  const targets = resources.ofType('AWS::ApplicationAutoScaling::ScalableTarget').filter(([, target]) => target['ScalableDimension'] === 'ecs:service:DesiredCount');
  if (targets.length !== 1) throw new TemplatePolicyError(`expected one ECS service scalable target, found ${targets.length}`);
  const [targetId, target] = targets[0]!;
  // ResourceId: service/<cluster>/<service name>, joined from a Ref to the cluster and a GetAtt of the service.
  const joined = objectAt(target['ResourceId'], `${targetId} ResourceId`)['Fn::Join'];
  const parts = list(Array.isArray(joined) ? joined[1] : undefined);
  const clusterId = parts.map(referencedId).find((id) => id !== undefined && resources.ofType('AWS::ECS::Cluster').some(([candidate]) => candidate === id));
  const serviceId = parts.map(referencedId).find((id) => id !== undefined && resources.ofType('AWS::ECS::Service').some(([candidate]) => candidate === id));
  if (clusterId === undefined || serviceId === undefined) throw new TemplatePolicyError(`${targetId} ResourceId: expected service/<cluster>/<service> from template references`);
  const service = resources.properties(serviceId, 'AWS::ECS::Service');
  const taskDefinitionId = referencedId(service['TaskDefinition']);
  if (taskDefinitionId === undefined) throw new TemplatePolicyError(`${serviceId} TaskDefinition: expected a Ref`);
  const taskDefinition = resources.properties(taskDefinitionId, 'AWS::ECS::TaskDefinition');
  const workerContainer = list(taskDefinition['ContainerDefinitions'])
    .filter(isObject)
    .find((container) => environmentOf(container)['QUEUE_URL'] !== undefined);
  if (workerContainer === undefined) throw new TemplatePolicyError(`${taskDefinitionId}: no container with QUEUE_URL in its environment`);
  const environment = environmentOf(workerContainer);
  const queueId = referencedId(environment['QUEUE_URL']);
  const deadLetterQueueId = referencedId(environment['DLQ_URL']);
  if (queueId === undefined || deadLetterQueueId === undefined) throw new TemplatePolicyError(`${taskDefinitionId}: QUEUE_URL and DLQ_URL must Ref the queues`);
  return { targetId, target, taskDefinition, workerContainer, clusterId, queueId, deadLetterQueueId };
}

function environmentOf(container: Json): Record<string, unknown> {
  return Object.fromEntries(
    list(container['Environment'])
      .filter(isObject)
      .map((entry) => [String(entry['Name']), entry['Value']]),
  );
}

/** The series a CloudWatch metric (namespace, name, dimensions) is, or undefined for one the simulation does not model. */
function seriesOf(anchors: Anchors, namespace: unknown, metricName: unknown, dimensions: unknown): SeriesName | undefined {
  const byName = new Map(
    list(dimensions)
      .filter(isObject)
      .map((dimension) => [String(dimension['Name']), referencedId(dimension['Value'])]),
  );
  const name = String(metricName);
  if (namespace === 'AWS/SQS') {
    const queue = byName.get('QueueName');
    if (queue === anchors.queueId) return SQS_SERIES[name];
    if (queue === anchors.deadLetterQueueId) return DLQ_SERIES[name];
    return undefined;
  }
  if (namespace === 'ECS/ContainerInsights' && byName.get('ClusterName') === anchors.clusterId) return ECS_SERIES[name];
  return undefined;
}

/** A Metrics list (alarm or target tracking), or undefined when one of its metrics is not a simulated series. */
function queriesOf(anchors: Anchors, metrics: unknown, what: string): { queries: MetricQuery[]; periods: number[] } | undefined {
  const queries: MetricQuery[] = [];
  const periods: number[] = [];
  for (const entry of list(metrics)) {
    const query = objectAt(entry, `${what} Metrics entry`);
    const id = String(query['Id']);
    const returnData = query['ReturnData'] !== false;
    if (typeof query['Expression'] === 'string') {
      queries.push({ id, expression: query['Expression'], returnData });
      continue;
    }
    const stat = objectAt(query['MetricStat'], `${what} ${id} MetricStat`);
    const metric = objectAt(stat['Metric'], `${what} ${id} Metric`);
    const series = seriesOf(anchors, metric['Namespace'], metric['MetricName'], metric['Dimensions']);
    if (series === undefined) return undefined;
    if (stat['Period'] !== undefined) periods.push(numberAt(stat['Period'], `${what} ${id} Period`));
    queries.push({ id, metric: { series, statistic: oneOf(stat['Stat'], STATISTICS, `${what} ${id} Stat`) }, returnData });
  }
  return { queries, periods };
}

function alarmOf(anchors: Anchors, id: string, alarm: Json, scalingPolicyIds: ReadonlySet<string>): AlarmPolicy | undefined {
  let queries: MetricQuery[];
  let periodSeconds: number;
  if (alarm['MetricName'] !== undefined) {
    const series = seriesOf(anchors, alarm['Namespace'], alarm['MetricName'], alarm['Dimensions']);
    if (series === undefined) return undefined;
    queries = [{ id: 'm1', metric: { series, statistic: oneOf(alarm['Statistic'], STATISTICS, `${id} Statistic`) }, returnData: true }];
    periodSeconds = numberAt(alarm['Period'], `${id} Period`);
  } else {
    const read = queriesOf(anchors, alarm['Metrics'], id);
    if (read === undefined) return undefined;
    queries = read.queries;
    const period = alarm['Period'] ?? (read.periods.length > 0 ? Math.max(...read.periods) : undefined);
    periodSeconds = numberAt(period, `${id} Period`);
  }
  const evaluationPeriods = numberAt(alarm['EvaluationPeriods'], `${id} EvaluationPeriods`);
  return {
    id,
    queries,
    periodSeconds,
    evaluationPeriods,
    datapointsToAlarm: alarm['DatapointsToAlarm'] === undefined ? evaluationPeriods : numberAt(alarm['DatapointsToAlarm'], `${id} DatapointsToAlarm`),
    threshold: numberAt(alarm['Threshold'], `${id} Threshold`),
    comparison: oneOf(alarm['ComparisonOperator'], COMPARISONS, `${id} ComparisonOperator`),
    treatMissingData: alarm['TreatMissingData'] === undefined ? 'missing' : oneOf(alarm['TreatMissingData'], MISSING_DATA, `${id} TreatMissingData`),
    scalingActions: list(alarm['AlarmActions'])
      .map(referencedId)
      .filter((action): action is string => action !== undefined && scalingPolicyIds.has(action)),
  };
}

function stepPolicyOf(id: string, configuration: Json): StepScalingPolicy {
  const steps: StepAdjustment[] = list(configuration['StepAdjustments']).map((entry, index) => {
    const step = objectAt(entry, `${id} StepAdjustments[${index}]`);
    return {
      ...(step['MetricIntervalLowerBound'] === undefined ? {} : { lower: numberAt(step['MetricIntervalLowerBound'], `${id} MetricIntervalLowerBound`) }),
      ...(step['MetricIntervalUpperBound'] === undefined ? {} : { upper: numberAt(step['MetricIntervalUpperBound'], `${id} MetricIntervalUpperBound`) }),
      adjustment: numberAt(step['ScalingAdjustment'], `${id} ScalingAdjustment`),
    };
  });
  return {
    id,
    adjustmentType: oneOf(configuration['AdjustmentType'], ['ChangeInCapacity', 'PercentChangeInCapacity', 'ExactCapacity'] as const, `${id} AdjustmentType`),
    cooldownSeconds: configuration['Cooldown'] === undefined ? DEFAULT_COOLDOWN_SECONDS : numberAt(configuration['Cooldown'], `${id} Cooldown`),
    ...(configuration['MinAdjustmentMagnitude'] === undefined ? {} : { minAdjustmentMagnitude: numberAt(configuration['MinAdjustmentMagnitude'], `${id} MinAdjustmentMagnitude`) }),
    steps,
  };
}

function targetTrackingOf(anchors: Anchors, id: string, configuration: Json): TargetTrackingPolicy {
  const specification = objectAt(configuration['CustomizedMetricSpecification'], `${id} CustomizedMetricSpecification (the only kind simulated)`);
  let queries: MetricQuery[] | undefined;
  if (specification['Metrics'] !== undefined) {
    queries = queriesOf(anchors, specification['Metrics'], id)?.queries;
  } else {
    const series = seriesOf(anchors, specification['Namespace'], specification['MetricName'], specification['Dimensions']);
    queries = series === undefined ? undefined : [{ id: 'm1', metric: { series, statistic: oneOf(specification['Statistic'], STATISTICS, `${id} Statistic`) }, returnData: true }];
  }
  if (queries === undefined) throw new TemplatePolicyError(`${id}: its metric is not one of the simulated series`);
  return {
    id,
    targetValue: numberAt(configuration['TargetValue'], `${id} TargetValue`),
    queries,
    scaleOutCooldownSeconds: configuration['ScaleOutCooldown'] === undefined ? DEFAULT_COOLDOWN_SECONDS : numberAt(configuration['ScaleOutCooldown'], `${id} ScaleOutCooldown`),
    scaleInCooldownSeconds: configuration['ScaleInCooldown'] === undefined ? DEFAULT_COOLDOWN_SECONDS : numberAt(configuration['ScaleInCooldown'], `${id} ScaleInCooldown`),
    disableScaleIn: configuration['DisableScaleIn'] === true,
  };
}

function taskOf(anchors: Anchors): ScalingPolicy['task'] {
  const { taskDefinition, workerContainer } = anchors;
  const environment = environmentOf(workerContainer);
  const platform = isObject(taskDefinition['RuntimePlatform']) ? taskDefinition['RuntimePlatform'] : {};
  // Fargate's default platform is x86_64 (X86_64 when RuntimePlatform is absent).
  const architecture = platform['CpuArchitecture'] === 'ARM64' ? 'arm64' : 'x86_64';
  return {
    cpu: numberAt(taskDefinition['Cpu'], 'worker task Cpu'),
    memoryMiB: numberAt(taskDefinition['Memory'], 'worker task Memory'),
    architecture,
    minFilesInFlight: numberAt(environment['MIN_FILES_IN_FLIGHT'], 'worker MIN_FILES_IN_FLIGHT'),
    maxFilesInFlight: numberAt(environment['MAX_FILES_IN_FLIGHT'], 'worker MAX_FILES_IN_FLIGHT'),
    shutdownGraceSeconds: numberAt(environment['SHUTDOWN_GRACE_SECONDS'], 'worker SHUTDOWN_GRACE_SECONDS'),
  };
}

function queueOf(resources: TemplateResources, anchors: Anchors): ScalingPolicy['queue'] {
  const queue = resources.properties(anchors.queueId, 'AWS::SQS::Queue');
  const redrive = objectAt(queue['RedrivePolicy'], `${anchors.queueId} RedrivePolicy`);
  return {
    // SQS's defaults when a property is absent: 30 s visibility, short polling (CreateQueue's attributes).
    visibilityTimeoutSeconds: queue['VisibilityTimeout'] === undefined ? 30 : numberAt(queue['VisibilityTimeout'], `${anchors.queueId} VisibilityTimeout`),
    maxReceiveCount: numberAt(redrive['maxReceiveCount'], `${anchors.queueId} maxReceiveCount`),
    receiveWaitSeconds:
      queue['ReceiveMessageWaitTimeSeconds'] === undefined ? 0 : numberAt(queue['ReceiveMessageWaitTimeSeconds'], `${anchors.queueId} ReceiveMessageWaitTimeSeconds`),
  };
}

/** The scaling policy of a synthesized template (its JSON). Throws TemplatePolicyError naming what it could not read. */
export function scalingPolicyFromTemplate(template: Record<string, unknown>): ScalingPolicy {
  const resources = new TemplateResources(template);
  const anchors = findAnchors(resources);
  const policies = resources
    .ofType('AWS::ApplicationAutoScaling::ScalingPolicy')
    .filter(([, policy]) => referencedId(policy['ScalingTargetId']) === anchors.targetId);
  const targetTracking = policies
    .filter(([, policy]) => policy['PolicyType'] === 'TargetTrackingScaling')
    .map(([id, policy]) => targetTrackingOf(anchors, id, objectAt(policy['TargetTrackingScalingPolicyConfiguration'], `${id} configuration`)));
  const stepPolicies = policies
    .filter(([, policy]) => policy['PolicyType'] === 'StepScaling')
    .map(([id, policy]) => stepPolicyOf(id, objectAt(policy['StepScalingPolicyConfiguration'], `${id} configuration`)));
  const stepIds = new Set(stepPolicies.map((policy) => policy.id));
  const alarms = resources
    .ofType('AWS::CloudWatch::Alarm')
    .map(([id, alarm]) => alarmOf(anchors, id, alarm, stepIds))
    .filter((alarm): alarm is AlarmPolicy => alarm !== undefined);
  const oldest = alarms.find((alarm) => alarm.id.includes('OldestMessageTooOld'));
  if (oldest === undefined) throw new TemplatePolicyError('no OldestMessageTooOld alarm on the ingest queue');
  return {
    minTasks: numberAt(anchors.target['MinCapacity'], `${anchors.targetId} MinCapacity`),
    maxTasks: numberAt(anchors.target['MaxCapacity'], `${anchors.targetId} MaxCapacity`),
    targetTracking,
    stepPolicies,
    alarms,
    oldestMessageAlarm: { id: oldest.id, thresholdSeconds: oldest.threshold },
    queue: queueOf(resources, anchors),
    task: taskOf(anchors),
  };
}

/** The registry image keeps synth from staging a Docker build context; the image plays no part in the policy. */
const REGISTRY_IMAGE = 'public.ecr.aws/docker/library/node:24-bookworm-slim';

/** The template of the ingest stack as `cdk synth -c key=value ...` builds it: cdk.json's context, `context` over it. */
export function synthesizedTemplate(context: Record<string, unknown>): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(projectPath('cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const outdir = mkdtempSync(join(tmpdir(), 'iot-ingest-simulate-'));
  try {
    const { app, stack } = buildApp({
      context: { ...cdkJson.context, ...context },
      outdir,
      workerImage: ecs.ContainerImage.fromRegistry(REGISTRY_IMAGE),
    });
    app.synth();
    // The stack may sit in a pipeline's stage: its template is in that stage's assembly.
    const stage = Stage.of(stack);
    if (stage === undefined) throw new TemplatePolicyError(`${stack.stackName} is in no stage`);
    return stage.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The scaling policy of the ingest stack synthesized with `context` (the -c values) over cdk.json's. */
export function synthesizedPolicy(context: Record<string, unknown>): ScalingPolicy {
  return scalingPolicyFromTemplate(synthesizedTemplate(context));
}
