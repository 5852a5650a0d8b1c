/**
 * CDK feature flags (issue 15): cdk.json configures every flag `cdk synth` would otherwise list as "not
 * configured", and the flags that would change a deployed stack stay at the value that keeps its template.
 */
import { describe, expect, it } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { buildDeployedApp, CDK_JSON_CONTEXT, REGISTRY_IMAGE, synth, temporaryOutdir } from '../support/synth.ts';

/** One entry of aws-cdk-lib's feature-flag report (cloud-assembly-schema's FeatureFlag). */
interface ReportedFlag {
  readonly userValue?: unknown;
  readonly recommendedValue?: unknown;
  readonly unconfiguredBehavesLike?: { readonly v2?: unknown };
}

const FLAG_REPORT_ARTIFACT = 'aws-cdk-lib/feature-flag-report';

function reportedFlags(): Record<string, ReportedFlag> {
  const { app } = buildDeployedApp({ outdir: temporaryOutdir(), workerImage: REGISTRY_IMAGE });
  const artifact = app.synth().manifest.artifacts?.[FLAG_REPORT_ARTIFACT];
  expect(artifact?.type).toBe('cdk:feature-flag-report');
  return (artifact?.properties as { flags: Record<string, ReportedFlag> }).flags;
}

describe('feature flags', () => {
  it('leaves no flag for `npm run synth` to report as not configured (the CLI lists those whose default is not the recommended value)', () => {
    const flags = reportedFlags();
    expect(Object.keys(flags).length).toBeGreaterThan(50);
    // The CDK CLI's own test (FlagOperations.filterNeedsAttention): unset, and unset does not behave as recommended.
    const notConfigured = Object.entries(flags)
      .filter(([, flag]) => flag.userValue === undefined && (flag.unconfiguredBehavesLike?.v2 ?? false) !== flag.recommendedValue)
      .map(([name]) => name);
    expect(notConfigured).toEqual([]);
  });

  it.each([
    // Removing DeploymentController.Type ECS replaces the service (the property is create-only).
    ['@aws-cdk/aws-ecs:disableExplicitDeploymentControllerForCircuitBreaker'],
    // LoadBalancers: [] on a service that never had one starts a rolling deployment of every task, for nothing.
    ['@aws-cdk/aws-ecs:removeEmptyLoadBalancers'],
    // Dropping the (disabled) deployment alarm settings changes the service's DeploymentConfiguration, for nothing.
    ['@aws-cdk/aws-ecs:removeDefaultDeploymentAlarm'],
  ])('keeps %s off in cdk.json: it would change the deployed worker service', (flag) => {
    expect(CDK_JSON_CONTEXT[flag]).toBe(false);
  });

  it('synthesizes the worker service as deployed stacks have it: explicit ECS controller, disabled deployment alarms, no LoadBalancers', () => {
    synth().template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentController: { Type: 'ECS' },
      DeploymentConfiguration: Match.objectLike({ Alarms: { AlarmNames: [], Enable: false, Rollback: false } }),
      LoadBalancers: Match.absent(),
    });
  });
});
