/**
 * The synthesized CloudFormation of the ingest stack: every resource and property the deployment relies
 * on, the exact IAM statements, the scaling steps and the alarm thresholds. Each synth also runs
 * cdk-nag's AwsSolutions checks, which fail the synth on any finding not acknowledged with a reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { HEALTH_CHECK } from '../../worker/production-runtime.ts';
import { buildDeployedApp, logicalId, synth, temporaryOutdir } from '../support/synth.ts';

const direct = synth();
const trigger = synth({ notificationMode: 'trigger', managedPrometheus: true, minTasks: 0, alarmEmail: 'ops@example.com' });

describe('buckets', () => {
  it('encrypts, blocks public access and enforces TLS on every bucket', () => {
    const buckets = direct.template.findResources('AWS::S3::Bucket');
    expect(Object.keys(buckets)).toHaveLength(3);
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
    const policies = Object.values(direct.template.findResources('AWS::S3::BucketPolicy'));
    expect(policies).toHaveLength(3);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  it('versions the raw bucket and expires rejected output after 30 days', () => {
    const { stack, template } = direct;
    const raw = template.findResources('AWS::S3::Bucket')[logicalId(stack, stack.storage.rawBucket)];
    expect(raw?.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    const processed = template.findResources('AWS::S3::Bucket')[logicalId(stack, stack.storage.processedBucket)];
    expect(processed?.Properties.LifecycleConfiguration.Rules).toEqual(
      expect.arrayContaining([{ Id: 'expire-rejected', Prefix: 'rejected/', ExpirationInDays: 30, Status: 'Enabled' }]),
    );
  });
});

describe('queues', () => {
  it('has an encrypted ingest queue whose redrive policy sends to a 14-day DLQ after 5 receives', () => {
    const { stack, template } = direct;
    template.hasResourceProperties('AWS::SQS::Queue', {
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 900,
      ReceiveMessageWaitTimeSeconds: 20,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, stack.queues.deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
    });
    for (const policy of Object.values(template.findResources('AWS::SQS::QueuePolicy'))) {
      expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('aws:SecureTransport');
    }
  });
});

describe('notifications', () => {
  it('in direct mode, sends object creations with each suffix from the raw bucket to the queue', () => {
    const { stack, template } = direct;
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(stack, stack.storage.rawBucket) },
      NotificationConfiguration: {
        QueueConfigurations: ['.jsonl', '.jsonl.gz', '.jsonl.zst'].map((suffix) => ({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }] } },
          QueueArn: { 'Fn::GetAtt': [logicalId(stack, stack.queues.queue), 'Arn'] },
        })),
      },
    });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
  });

  it('in trigger mode, sends them to the trigger Lambda, which forwards to the queue and fails over to the DLQ', () => {
    const { stack, template } = trigger;
    const triggerFunction = stack.notifications.trigger!;
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: ['.jsonl', '.jsonl.gz', '.jsonl.zst'].map((suffix) => ({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }] } },
          LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(stack, triggerFunction), 'Arn'] },
        })),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Environment: { Variables: { QUEUE_URL: { Ref: logicalId(stack, stack.queues.queue) }, SUFFIXES: '.jsonl,.jsonl.gz,.jsonl.zst' } },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack, stack.queues.deadLetterQueue), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Resource: Match.arrayWith([{ 'Fn::GetAtt': [logicalId(stack, stack.queues.queue), 'Arn'] }]),
          }),
        ]),
      },
    });
  });
});

describe('the trigger role', () => {
  it('may only write its own log group, send to the ingest queue and fail over to the DLQ: no managed policy, no wildcard', () => {
    const { stack, template } = trigger;
    const role = stack.notifications.trigger!.role!;
    const roles = template.findResources('AWS::IAM::Role');
    expect(roles[logicalId(stack, role)]?.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((ref) => ref.Ref === logicalId(stack, role)),
    );
    const arnOf = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, construct), 'Arn'] });
    // SendMessage alone: the trigger has the queue URL, and Lambda's on-failure delivery to SQS needs nothing else.
    expect(policies.flatMap((policy) => policy.Properties.PolicyDocument.Statement as unknown[])).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(stack.notifications.triggerLogGroup!) },
      { Sid: 'SendToQueues', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [arnOf(stack.queues.deadLetterQueue), arnOf(stack.queues.queue)] },
    ]);
  });
});

describe('the worker service', () => {
  it('runs the worker on Fargate with the configured architecture, CPU and memory, its health check and stop timeout', () => {
    const { stack, template } = direct;
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '1024',
      Memory: '2048',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'worker',
          Essential: true,
          ReadonlyRootFilesystem: true,
          StopTimeout: 30,
          // The one definition the Dockerfile's HEALTHCHECK is checked against (test/integration/ops/artifact-check/).
          HealthCheck: {
            Command: ['CMD', ...HEALTH_CHECK.command],
            Interval: HEALTH_CHECK.intervalSeconds,
            Timeout: HEALTH_CHECK.timeoutSeconds,
            Retries: HEALTH_CHECK.retries,
            StartPeriod: HEALTH_CHECK.startPeriodSeconds,
          },
          Environment: Match.arrayWith([
            { Name: 'QUEUE_URL', Value: { Ref: logicalId(stack, stack.queues.queue) } },
            { Name: 'DLQ_URL', Value: { Ref: logicalId(stack, stack.queues.deadLetterQueue) } },
            { Name: 'PROCESSED_BUCKET', Value: { Ref: logicalId(stack, stack.storage.processedBucket) } },
            { Name: 'REJECTED_PREFIX', Value: 'rejected/' },
            { Name: 'OUTPUT_FORMAT', Value: 'jsonl' },
            { Name: 'PARQUET_PREFIX', Value: 'parquet/' },
            { Name: 'MAX_FILES_IN_FLIGHT', Value: '128' },
            { Name: 'MIN_FILES_IN_FLIGHT', Value: '8' },
            { Name: 'FILES_IN_FLIGHT_MODE', Value: 'adaptive' },
            { Name: 'MAX_BYTES_IN_FLIGHT_MIB', Value: '768' },
            { Name: 'VISIBILITY_TIMEOUT_SECONDS', Value: '900' },
            { Name: 'SHUTDOWN_GRACE_SECONDS', Value: '25' },
            { Name: 'FRESHNESS_OBJECTIVE_SECONDS', Value: '900' },
            { Name: 'HTTP_PORT', Value: '8080' },
            { Name: 'NODE_OPTIONS', Value: '--max-semi-space-size=4 --max-old-space-size=1536' },
          ]),
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
    template.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: Match.absent(),
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('takes architecture, CPU, memory and grace period from context', () => {
    const { template } = synth({ architecture: 'x86_64', cpu: 2048, memoryMiB: 4096, shutdownGraceSeconds: 100, natGateways: 0 });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '2048',
      Memory: '4096',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
      ContainerDefinitions: [
        Match.objectLike({
          StopTimeout: 105,
          Environment: Match.arrayWith([{ Name: 'NODE_OPTIONS', Value: '--max-semi-space-size=4 --max-old-space-size=3072' }]),
        }),
      ],
    });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
  });

  it('hands freshnessObjectiveSeconds to the worker, whose p99 alert compares with it', () => {
    const { template } = synth({ freshnessObjectiveSeconds: 300 });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Name: 'worker', Environment: Match.arrayWith([{ Name: 'FRESHNESS_OBJECTIVE_SECONDS', Value: '300' }]) }),
      ],
    });
  });

  it('gives the task role exactly: read raw objects, list the raw bucket, write output objects, consume the queue, dead-letter, read queue depth, protect its task, publish file events', () => {
    const { stack, template } = direct;
    const taskRole = stack.workers.taskDefinition.taskRole;
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy.Properties.Roles as Array<{ Ref: string }>).some((role) => role.Ref === logicalId(stack, taskRole)),
    );
    expect(policies).toHaveLength(1);
    const arnOf = (construct: { node: { defaultChild?: unknown } }) => ({ 'Fn::GetAtt': [logicalId(stack, construct), 'Arn'] });
    expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'ReadRawObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:GetObjectVersion'],
        Resource: { 'Fn::Join': ['', [arnOf(stack.storage.rawBucket), '/*']] },
      },
      // Without it S3 answers GetObject on a missing key with 403, not 404: the file would be dead-lettered, not skipped.
      { Sid: 'ListRawBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(stack.storage.rawBucket) },
      {
        Sid: 'WriteOutputObjects',
        Effect: 'Allow',
        // GetObject for the copy that gives a multipart output its final provenance metadata.
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: { 'Fn::Join': ['', [arnOf(stack.storage.processedBucket), '/*']] },
      },
      // The provenance check before a file stores anything reads an output that may not exist yet: 404, not 403.
      { Sid: 'ListOutputBucket', Effect: 'Allow', Action: 's3:ListBucket', Resource: arnOf(stack.storage.processedBucket) },
      {
        Sid: 'ConsumeIngestQueue',
        Effect: 'Allow',
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage'],
        Resource: arnOf(stack.queues.queue),
      },
      { Sid: 'DeadLetterPoisonMessages', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arnOf(stack.queues.deadLetterQueue) },
      {
        Sid: 'ReportQueueDepth',
        Effect: 'Allow',
        Action: 'sqs:GetQueueAttributes',
        Resource: [arnOf(stack.queues.deadLetterQueue), arnOf(stack.queues.queue)],
      },
      {
        Sid: 'ProtectOwnTaskFromScaleIn',
        Effect: 'Allow',
        Action: ['ecs:GetTaskProtection', 'ecs:UpdateTaskProtection'],
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':ecs:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':task/',
              { Ref: logicalId(stack, stack.workers.cluster) },
              '/*',
            ],
          ],
        },
      },
      // The default source mode (keep) adds nothing on the raw bucket: nothing-missed.test.ts covers the others.
      { Sid: 'PublishFileEvents', Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: logicalId(stack, stack.fileEvents.topic) } },
    ]);
  });

  it('adds reading the device registry object when one is configured, and nothing broader', () => {
    const { template } = synth({ deviceRegistryUri: 's3://config-bucket/devices/registry.json' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'ReadDeviceRegistry',
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::config-bucket/devices/registry.json']] },
          },
        ]),
      },
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'DEVICE_REGISTRY', Value: 's3://config-bucket/devices/registry.json' }]) }),
      ],
    });
  });
});

describe('scaling on queue depth', () => {
  it('tracks visible messages per running task by metric math, scaling out only', () => {
    const { stack, template } = direct;
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 15,
      ScalableDimension: 'ecs:service:DesiredCount',
      ServiceNamespace: 'ecs',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 10000,
        DisableScaleIn: true,
        ScaleOutCooldown: 60,
        CustomizedMetricSpecification: {
          Metrics: [
            {
              Id: 'visible',
              ReturnData: false,
              MetricStat: {
                Metric: {
                  Namespace: 'AWS/SQS',
                  MetricName: 'ApproximateNumberOfMessagesVisible',
                  Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, stack.queues.queue), 'QueueName'] } }],
                },
                Stat: 'Maximum',
              },
            },
            {
              Id: 'running',
              ReturnData: false,
              MetricStat: {
                Metric: {
                  Namespace: 'ECS/ContainerInsights',
                  MetricName: 'RunningTaskCount',
                  Dimensions: [
                    { Name: 'ClusterName', Value: { Ref: logicalId(stack, stack.workers.cluster) } },
                    { Name: 'ServiceName', Value: { 'Fn::GetAtt': [logicalId(stack, stack.workers.service), 'Name'] } },
                  ],
                },
                Stat: 'Average',
              },
            },
            {
              Id: 'backlogPerTask',
              Label: 'Visible messages per running task',
              Expression: 'visible / IF(FILL(running, 0) > 0, running, 1)',
              ReturnData: true,
            },
          ],
        },
      },
    });
  });

  it('shrinks to the minimum only after 5 minutes with nothing visible or in flight', () => {
    const { template } = direct;
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ExactCapacity',
        Cooldown: 300,
        StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 1 }],
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(visible, 0) + FILL(inFlight, 0)' })]),
    });
  });

  it('starts one task from zero when messages wait and none runs, only when the minimum is zero', () => {
    direct.template.resourcePropertiesCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', { StepScalingPolicyConfiguration: Match.objectLike({ AdjustmentType: 'ChangeInCapacity' }) }, 0);
    const { template } = trigger;
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 15 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ChangeInCapacity',
        Cooldown: 120,
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: Match.objectLike({ AdjustmentType: 'ExactCapacity', StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }] }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      EvaluationPeriods: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(visible > 0 AND FILL(running, 0) < 1, 1, 0)' })]),
    });
  });
});

describe('alarms and dashboard', () => {
  function alarmWith(template: Template, properties: Record<string, unknown>): void {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...properties,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('AlarmTopic') })],
    });
  }

  /** One of the DLQ's SQS metrics inside the alarm's or a widget's metric math, by the id the expression uses. */
  function deadLetterMetric(stack: typeof direct.stack, id: string, metricName: string) {
    return {
      Id: id,
      ReturnData: false,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/SQS',
          MetricName: metricName,
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack, stack.queues.deadLetterQueue), 'QueueName'] } }],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    };
  }

  it('alarms when the DLQ holds a message visible, in flight or delayed, so a peek that hides them cannot clear it', () => {
    const { stack, template } = direct;
    alarmWith(template, {
      Metrics: [
        Match.objectLike({ Expression: 'FILL(visible, 0) + FILL(in_flight, 0) + FILL(delayed, 0)', ReturnData: true }),
        deadLetterMetric(stack, 'visible', 'ApproximateNumberOfMessagesVisible'),
        deadLetterMetric(stack, 'in_flight', 'ApproximateNumberOfMessagesNotVisible'),
        deadLetterMetric(stack, 'delayed', 'ApproximateNumberOfMessagesDelayed'),
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('keeps the DLQ alarm\'s logical id, so a deploy updates the alarm in place and its name (the output ops smoke reads) stays', () => {
    const { stack } = direct;
    expect(logicalId(stack, stack.monitoring.alarms.deadLetterQueueNotEmpty)).toBe('MonitoringDeadLetterQueueNotEmptyBC52F70B');
  });

  it('alarms when the oldest message is older than the threshold for 3 minutes', () => {
    alarmWith(direct.template, {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
  });

  it('alarms when messages wait but no file finished in 15 of the last 18 minutes', () => {
    alarmWith(direct.template, {
      Threshold: 1,
      EvaluationPeriods: 18,
      DatapointsToAlarm: 15,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(FILL(visible, 0) > 0 AND FILL(deleted, 0) == 0, 1, 0)' })]),
    });
  });

  it('alarms when fewer tasks run than desired in 10 of the last 13 minutes', () => {
    alarmWith(direct.template, {
      Threshold: 1,
      EvaluationPeriods: 13,
      DatapointsToAlarm: 10,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(desired, 0) - FILL(running, 0)' })]),
    });
  });

  it('subscribes the alarm e-mail when one is given, and draws a dashboard', () => {
    trigger.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    direct.template.resourceCountIs('AWS::SNS::Subscription', 0);
    const dashboards = Object.values(direct.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const title of ['Queue depth', 'Worker tasks', 'Throughput', 'Errors', 'Age of oldest message']) expect(body).toContain(title);
  });

  it("draws the DLQ in both dashboard widgets as the alarm counts it: visible + in flight + delayed, never visible alone", () => {
    const { stack, template } = direct;
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    // The body is a Fn::Join of JSON text and tokens; the queue names are tokens, so rebuild it with placeholders.
    const parts = (dashboard?.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const deadLetterQueueName = JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, stack.queues.deadLetterQueue), 'QueueName'] });
    const text = parts.map((part) => (typeof part === 'string' ? part : JSON.stringify(part) === deadLetterQueueName ? 'DLQ' : 'TOKEN')).join('');
    const widgets = (JSON.parse(text) as { widgets: Array<{ properties: { title?: string; metrics?: unknown[][] } }> }).widgets;
    const metricsOf = (title: string) => widgets.find((widget) => widget.properties.title === title)?.properties.metrics ?? [];
    for (const title of ['Queue depth', 'Errors']) {
      const metrics = metricsOf(title);
      expect(metrics).toEqual(
        expect.arrayContaining([
          [
            expect.objectContaining({
              expression: 'FILL(visible, 0) + FILL(in_flight, 0) + FILL(delayed, 0)',
              label: 'dead-letter queue (visible + in flight + delayed)',
            }),
          ],
          ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'DLQ', expect.objectContaining({ id: 'visible', visible: false })],
          ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', 'DLQ', expect.objectContaining({ id: 'in_flight', visible: false })],
          ['AWS/SQS', 'ApproximateNumberOfMessagesDelayed', 'QueueName', 'DLQ', expect.objectContaining({ id: 'delayed', visible: false })],
        ]),
      );
      // Every DLQ metric is an input of the sum, hidden: no line of the DLQ's visible messages alone.
      const shownDeadLetterMetrics = metrics.filter((metric) => metric[3] === 'DLQ' && (metric[4] as { visible?: boolean }).visible !== false);
      expect(shownDeadLetterMetrics).toEqual([]);
    }
  });
});

describe('Prometheus', () => {
  it('is off by default', () => {
    direct.template.resourceCountIs('AWS::APS::Workspace', 0);
  });

  it('adds a managed Prometheus workspace and a non-essential collector sidecar allowed only to remote-write to it', () => {
    const { stack, template } = trigger;
    template.resourceCountIs('AWS::APS::Workspace', 1);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          Name: 'metrics-collector',
          Essential: false,
          Environment: [{ Name: 'AOT_CONFIG_CONTENT', Value: Match.anyValue() }],
        }),
      ]),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Sid: 'WriteWorkerMetrics', Effect: 'Allow', Action: 'aps:RemoteWrite', Resource: { 'Fn::GetAtt': [stack.getLogicalId(stack.prometheus!.workspace), 'Arn'] } },
        ]),
      },
    });
  });
});

describe('npm run synth', () => {
  it('stages the worker image from the Dockerfile and bundles the trigger with local esbuild, without Docker or credentials', () => {
    const outdir = temporaryOutdir();
    const { app } = buildDeployedApp({ context: { notificationMode: 'trigger' }, outdir });

    const assembly = app.synth();

    const manifest = JSON.parse(readFileSync(join(outdir, `${assembly.stacks[0]!.stackName}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string } }>;
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const [image] = Object.values(manifest.dockerImages);
    expect(image).toBeDefined();
    expect(readdirSync(join(outdir, image!.source.directory)).sort()).toEqual(
      expect.arrayContaining(['Dockerfile', 'package-lock.json', 'package.json', 'tsconfig.build.json', 'worker']),
    );
    expect(readdirSync(join(outdir, image!.source.directory))).not.toContain('node_modules');
    const bundles = Object.values(manifest.files).filter((file) => file.source.packaging === 'zip');
    expect(bundles.some((bundle) => readdirSync(join(outdir, bundle.source.path)).includes('index.mjs'))).toBe(true);
  });
});
