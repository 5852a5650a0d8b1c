/**
 * Synthesizes the ingest stack for template tests, each synth in a temporary folder removed after the
 * file's tests, with a registry image so that no Docker build context is staged. cdk-nag runs on every synth.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { buildApp } from '../../infra/build-app.ts';
import type { IngestStack } from '../../infra/ingest-stack.ts';

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export const REGISTRY_IMAGE = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:24-bookworm-slim');

/** A fresh temporary output folder, removed after the test file. */
export function temporaryOutdir(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'iot-ingest-cdk-'));
  outdirs.push(outdir);
  return outdir;
}

export function synth(context: Record<string, unknown> = {}): { template: Template; stack: IngestStack } {
  const { app, stack } = buildApp({ context, outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
  app.synth();
  return { template: Template.fromStack(stack), stack };
}

/** The logical id of a construct's CloudFormation resource, as the template names it. */
export function logicalId(stack: IngestStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}
