/**
 * What the first days in AWS showed the template must hold (issue 12): alarms that can reach their topic
 * and fire despite late data, a task count the deploys leave alone, scale-in under a steady trickle, the
 * worker's visibility timeout and task memory as the stack sizes them, and a synth that fails on any warning.
 */
import { describe, expect, it } from '@jest/globals';
import { Annotations as CdkAnnotations } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { DEFAULT_COLLECTOR_IMAGE } from '../../infra/prometheus.ts';
import { maxBytesInFlightMiB } from '../../infra/worker-service.ts';
import { buildDeployedApp, logicalId, REGISTRY_IMAGE, synth, temporaryOutdir } from '../support/synth.ts';

const direct = synth();
const fromZero = synth({ minTasks: 0, maxTasks: 20, maxFilesInFlight: 4, managedPrometheus: true, longestFileSeconds: 1800 });

const environmentOf = (template: Template): Array<{ Name: string; Value: unknown }> => {
  const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  const worker = (taskDefinition?.Properties.ContainerDefinitions as Array<{ Name: string; Environment: Array<{ Name: string; Value: unknown }> }>).find(
    (container) => container.Name === 'worker',
  );
  return worker!.Environment;
};
const environmentValue = (template: Template, name: string): unknown => environmentOf(template).find((variable) => variable.Name === name)?.Value;

describe('the alarm topic', () => {
  it('lets CloudWatch alarms of this account and region publish, next to the TLS-only deny', () => {
    const { stack, template } = direct;
    const topic = { Ref: logicalId(stack, stack.monitoring.topic) };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topic],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AllowPublishThroughSSLOnly', Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          {
            Sid: 'AllowThisAccountsAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic,
            Condition: {
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
                },
              },
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            },
          },
        ]),
      },
    });
  });

  it('names the DLQ alarm in an output, for ops smoke to fire it once and show the e-mail path works', () => {
    const { stack, template } = direct;
    template.hasOutput('DeadLetterQueueAlarmName', { Value: { Ref: logicalId(stack, stack.monitoring.alarms.deadLetterQueueNotEmpty) } });
  });
});

describe('alarms that wait for a condition to last', () => {
  it('alarm on 15 of the last 18 minutes without progress, and 10 of 13 with tasks missing, so late datapoints cannot hold them back', () => {
    direct.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 18,
      DatapointsToAlarm: 15,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(FILL(visible, 0) > 0 AND FILL(deleted, 0) == 0, 1, 0)' })]),
    });
    direct.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 13,
      DatapointsToAlarm: 10,
      TreatMissingData: 'notBreaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(desired, 0) - FILL(running, 0)' })]),
    });
  });

  it('follows noProgressAlarmMinutes', () => {
    synth({ noProgressAlarmMinutes: 30 }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 33,
      DatapointsToAlarm: 30,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('FILL\\(deleted, 0\\) == 0') })]),
    });
  });
});

describe('the task count', () => {
  it('is not in the template, so that a deploy leaves a scaled service at its size; the scalable target holds the bounds', () => {
    for (const { template } of [direct, fromZero]) {
      template.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: Match.absent() });
    }
    direct.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 15 });
    fromZero.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 20 });
  });
});

describe('scaling in under load', () => {
  function lowLoadAlarm(template: Template, filesInFlight: number): void {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 30,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('RemoveHalfOfTasks') }],
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: `IF(FILL(desired, 0) > 1, 100 * (visible + inFlight) / (desired * ${filesInFlight}), 100)`, ReturnData: true }),
        Match.objectLike({ Id: 'visible', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesVisible' }), Stat: 'Maximum' }) }),
        Match.objectLike({ Id: 'inFlight', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ApproximateNumberOfMessagesNotVisible' }), Stat: 'Maximum' }) }),
        Match.objectLike({ Id: 'desired', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'DesiredTaskCount', Namespace: 'ECS/ContainerInsights' }) }) }),
      ]),
    });
  }

  it('removes half of the tasks (at least one, every 5 minutes at most) while the messages need under 30 % of their file slots', () => {
    lowLoadAlarm(direct.template, 8);
    direct.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'PercentChangeInCapacity',
        MinAdjustmentMagnitude: 1,
        Cooldown: 300,
        StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -50 }],
      },
    });
  });

  it('counts the slots with the floor of the bound on files in flight the tasks get, not its ceiling', () => {
    expect(environmentValue(direct.template, 'MIN_FILES_IN_FLIGHT')).toBe('8');
    expect(environmentValue(direct.template, 'MAX_FILES_IN_FLIGHT')).toBe('128');
    expect(environmentValue(fromZero.template, 'MIN_FILES_IN_FLIGHT')).toBe('4');
    lowLoadAlarm(fromZero.template, 4);
  });

  it('counts the slots with the bound itself when it is fixed', () => {
    const fixed = synth({ maxFilesInFlight: 32, filesInFlightMode: 'fixed' });
    expect(environmentValue(fixed.template, 'FILES_IN_FLIGHT_MODE')).toBe('fixed');
    lowLoadAlarm(fixed.template, 32);
  });

  it('with minTasks=0 still starts one task from zero, and leaves the last task to the idle policy', () => {
    const { template } = fromZero;
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', Cooldown: 120, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }] },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({ AdjustmentType: 'ExactCapacity', StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }] }),
    });
    // With one desired task the low-load expression reads 100 %: above any threshold.
    lowLoadAlarm(template, 4);
  });

  it('keeps target tracking for scaling out only, so the two never pull against each other', () => {
    direct.template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ DisableScaleIn: true }),
    });
  });
});

describe('the worker task', () => {
  it("receives with the queue's visibility timeout, the longest file", () => {
    const { stack, template } = direct;
    const queue = template.findResources('AWS::SQS::Queue')[logicalId(stack, stack.queues.queue)];
    expect(queue?.Properties.VisibilityTimeout).toBe(900);
    expect(environmentValue(template, 'VISIBILITY_TIMEOUT_SECONDS')).toBe('900');
    // The worker renews it every third (HEARTBEAT_INTERVAL_SECONDS' default), so none is set here.
    expect(environmentValue(template, 'HEARTBEAT_INTERVAL_SECONDS')).toBeUndefined();
    expect(environmentValue(fromZero.template, 'VISIBILITY_TIMEOUT_SECONDS')).toBe('1800');
  });

  it("leaves the collector sidecar's memory out of the worker's heap limit, and caps the collector at it", () => {
    expect(environmentValue(direct.template, 'NODE_OPTIONS')).toBe('--max-semi-space-size=4 --max-old-space-size=1536');
    // 2048 MiB less the collector's 256, three quarters of it.
    expect(environmentValue(fromZero.template, 'NODE_OPTIONS')).toBe('--max-semi-space-size=4 --max-old-space-size=1344');
    fromZero.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Memory: '2048',
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Name: 'metrics-collector', Essential: false, Memory: 256, RestartPolicy: Match.objectLike({ Enabled: true }) }),
      ]),
    });
  });

  it('lets the files in flight reserve half of the worker container\'s memory beyond 512 MiB, at least the worker\'s default', () => {
    expect(environmentValue(direct.template, 'MAX_BYTES_IN_FLIGHT_MIB')).toBe('768');
    // 2048 MiB less the collector's 256.
    expect(environmentValue(fromZero.template, 'MAX_BYTES_IN_FLIGHT_MIB')).toBe('640');
    expect(maxBytesInFlightMiB(512)).toBe(64);
    expect(maxBytesInFlightMiB(8192)).toBe(3840);
  });

  it('runs a pinned collector release unless -c prometheusCollectorImage names another', () => {
    expect(DEFAULT_COLLECTOR_IMAGE).toMatch(/^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/);
    fromZero.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'metrics-collector', Image: DEFAULT_COLLECTOR_IMAGE })]),
    });
    const image = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0';
    synth({ managedPrometheus: true, prometheusCollectorImage: image }).template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'metrics-collector', Image: image })]),
    });
  });

  it('may decrypt an SSE-KMS device registry with the key given, through S3 only', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6789-abcd-ef0123456789';
    const { template } = synth({ deviceRegistryUri: 's3://config-bucket/devices/registry.json', deviceRegistryKmsKeyArn: keyArn });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'DecryptDeviceRegistry', Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringLike: { 'kms:ViaService': 's3.*.amazonaws.com' } } },
        ]),
      },
    });
    expect(JSON.stringify(direct.template.toJSON())).not.toContain('kms:Decrypt');
  });
});

describe('the synth', () => {
  const modes: Array<Record<string, unknown>> = [
    {},
    { notificationMode: 'trigger', managedPrometheus: true, minTasks: 0, alarmEmail: 'ops@example.com' },
    { outputFormat: 'parquet', dataLake: true },
    { natGateways: 0, architecture: 'x86_64', cpu: 16384, memoryMiB: 122880 },
    { deviceRegistryUri: 's3://config-bucket/registry.json', deviceRegistryKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/abc' },
    { pipeline: true, pipelineRepository: 'owner/name', pipelineConnectionArn: 'arn:aws:codeconnections:eu-west-1:111122223333:connection/abc' },
  ];

  it.each(modes)('leaves no warning in %j', (context) => {
    const { app, stack } = buildDeployedApp({ context, outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
    app.synth();
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('fails on a construct warning, as cdk synth --strict would', () => {
    const { app, stack } = buildDeployedApp({ outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
    CdkAnnotations.of(stack.workers).addWarningV2('iot-ingest:probe', 'a warning nobody acknowledged');
    expect(() => app.synth()).toThrow(/a warning nobody acknowledged/);
  });

  it("fails on a finding of CDK's own template validation, such as a task size Fargate does not offer", () => {
    const { app, stack } = buildDeployedApp({ outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
    (stack.workers.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).memory = '2500';
    expect(() => app.synth()).toThrow(/Cpu '1024' is not compatible with Memory '2500'/);
  });
});
