/**
 * Synthesizes the ingest stack for template tests, each synth in a temporary folder removed after the
 * file's tests, with a registry image so that no Docker build context is staged. cdk-nag runs on every synth.
 * Every app here gets cdk.json's context (its feature flags first of all) under the test's own, as the CDK CLI
 * gives it to `npm run synth` and `cdk deploy`: the tests see the template users deploy.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { buildApp, type BuildOptions } from '../../infra/build-app.ts';
import type { IngestStack } from '../../infra/ingest-stack.ts';
import { projectPath } from '../../infra/project-path.ts';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export const REGISTRY_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24-bookworm-slim');

/** The `context` of cdk.json: the feature flags and settings every `cdk` command starts from. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = (
  JSON.parse(readFileSync(projectPath('cdk.json'), 'utf8')) as { context?: Record<string, unknown> }
).context ?? {};

/** A fresh temporary output folder, removed after the test file. */
export function temporaryOutdir(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'iot-ingest-cdk-'));
  outdirs.push(outdir);
  return outdir;
}

/** buildApp as `cdk synth -c key=value` runs it: cdk.json's context, the given context over it. */
export function buildDeployedApp(options: BuildOptions = {}): ReturnType<typeof buildApp> {
  return buildApp({ ...options, context: { ...CDK_JSON_CONTEXT, ...options.context } });
}

export function synth(context: Record<string, unknown> = {}): { template: Template; stack: IngestStack } {
  const { app, stack } = buildDeployedApp({ context, outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
  app.synth();
  return { template: Template.fromStack(stack), stack };
}

/** The logical id of a construct's CloudFormation resource, as the template names it. */
export function logicalId(stack: IngestStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}
