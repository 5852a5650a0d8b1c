import { Stack } from 'aws-cdk-lib';
import * as aps from 'aws-cdk-lib/aws-aps';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ManagedPrometheusProps {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly logGroup: logs.ILogGroup;
  readonly workerPort: number;
  /**
   * The collector image (context `prometheusCollectorImage`).
   * @default DEFAULT_COLLECTOR_IMAGE
   */
  readonly collectorImage?: string;
}

/**
 * A pinned release (ADOT Collector v0.50.0, the newest found on 2026-12-02): with `latest`, any task
 * start could bring in a collector whose configuration keys changed. Raise it deliberately.
 */
export const DEFAULT_COLLECTOR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.50.0';
/**
 * The collector's hard memory limit. The worker's heap limit leaves this much of the task's memory to it,
 * so the collector can never push the worker into an out-of-memory kill.
 */
export const COLLECTOR_MEMORY_MIB = 256;
const SCRAPE_INTERVAL = '30s';

/** The collector's configuration: scrape the worker on localhost, label by task, remote-write with SigV4. */
export function collectorConfig(region: string, remoteWriteUrl: string, workerPort: number): string {
  return [
    'extensions:',
    '  sigv4auth:',
    `    region: ${region}`,
    '    service: aps',
    'receivers:',
    '  prometheus:',
    '    config:',
    '      scrape_configs:',
    '        - job_name: iot-ingest-worker',
    `          scrape_interval: ${SCRAPE_INTERVAL}`,
    '          static_configs:',
    `            - targets: ['127.0.0.1:${workerPort}']`,
    'processors:',
    '  resourcedetection:',
    '    detectors: [env, ecs]',
    '  batch: {}',
    'exporters:',
    '  prometheusremotewrite:',
    `    endpoint: ${remoteWriteUrl}`,
    '    auth:',
    '      authenticator: sigv4auth',
    // Every task scrapes 127.0.0.1: the task's ARN and family, as labels, keep their series apart.
    '    resource_to_telemetry_conversion:',
    '      enabled: true',
    'service:',
    '  extensions: [sigv4auth]',
    '  pipelines:',
    '    metrics:',
    '      receivers: [prometheus]',
    '      processors: [resourcedetection, batch]',
    '      exporters: [prometheusremotewrite]',
    '',
  ].join('\n');
}

/**
 * An Amazon Managed Service for Prometheus workspace and, in every worker task, an AWS Distro for
 * OpenTelemetry collector that scrapes `/metrics` on localhost and writes to it.
 */
export class ManagedPrometheus extends Construct {
  readonly workspace: aps.CfnWorkspace;

  constructor(scope: Construct, id: string, props: ManagedPrometheusProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.workspace = new aps.CfnWorkspace(this, 'Workspace', { alias: `${stack.stackName}-workers` });
    const remoteWriteUrl = `${this.workspace.attrPrometheusEndpoint}api/v1/remote_write`;

    props.taskDefinition.addContainer('metrics-collector', {
      image: ecs.ContainerImage.fromRegistry(props.collectorImage ?? DEFAULT_COLLECTOR_IMAGE),
      // Losing metrics must not stop the worker; a collector killed at its memory limit comes back.
      essential: false,
      memoryLimitMiB: COLLECTOR_MEMORY_MIB,
      enableRestartPolicy: true,
      environment: { AOT_CONFIG_CONTENT: collectorConfig(stack.region, remoteWriteUrl, props.workerPort) },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'metrics-collector', logGroup: props.logGroup }),
    });
    props.taskDefinition.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'WriteWorkerMetrics', actions: ['aps:RemoteWrite'], resources: [this.workspace.attrArn] }),
    );
  }
}
