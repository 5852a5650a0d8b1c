import { App, Validations } from 'aws-cdk-lib';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IngestStack } from './ingest-stack.ts';
import { acknowledgeNagFindings } from './nag-acknowledgements.ts';
import { DeliveryStack, readDeliverySettings } from './delivery-stack.ts';
import { readSettings } from './settings.ts';

/** Behaviour switches this app relies on, whatever the cdk.json next to it says. */
const FEATURE_FLAGS = {
  // Access logs are delivered under a bucket policy instead of the legacy log-delivery ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
} as const;

/**
 * A synth that warns fails, as `cdk synth --strict` would, whatever cdk.json or -c say: CDK's own template
 * validation (it knows, for one, which Fargate CPU/memory pairs exist) reports errors, and every warning,
 * construct annotations included, fails the synth unless acknowledged with a reason.
 */
const STRICT_VALIDATION = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/core:annotationsInValidationReport': true,
  '@aws-cdk/core:strictCfnValidateErrors': true,
} as const;

export interface BuildOptions {
  readonly context?: Record<string, unknown>;
  readonly outdir?: string;
  /** Tests pass a registry image so that synth needs no Docker build context. */
  readonly workerImage?: ecs.ContainerImage;
}

/** The app with its stack and cdk-nag's AwsSolutions checks, as `cdk synth` and the tests build it. */
export function buildApp(options: BuildOptions = {}): { app: App; stack: IngestStack } {
  const app = new App({
    context: { ...FEATURE_FLAGS, ...options.context },
    postCliContext: STRICT_VALIDATION,
    ...(options.outdir ? { outdir: options.outdir } : {}),
  });
  const settings = readSettings((key) => app.node.tryGetContext(key) as unknown);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const pipelineSettings = readDeliverySettings((key) => app.node.tryGetContext(key) as unknown);
  if (pipelineSettings) {
    // The pipeline's stage holds the ingest stack: the app contains only the pipeline.
    const pipeline = new DeliveryStack(app, 'IotIngestPipeline', { ...pipelineSettings, settings, env });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return { app, stack: pipeline.stage.stack };
  }
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'IotIngest';
  const stack = new IngestStack(app, stackName, {
    settings,
    env,
    description: 'IoT sensor file ingestion: S3 -> SQS -> ECS Fargate workers -> S3',
    ...(options.workerImage ? { workerImage: options.workerImage } : {}),
    prometheusCollectorImage: app.node.tryGetContext('prometheusCollectorImage') as string | undefined,
  });
  acknowledgeNagFindings(stack);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
