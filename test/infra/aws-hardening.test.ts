/**
 * What the first deployments to AWS taught (issue 12), pinned on the synthesized template: flow-log delivery
 * permissions that CDK writes itself, the queue's S3 statement scoped to this account, source maps in the
 * trigger, the emptied default security group, deploy-time Lambdas whose logs expire, and an image asset
 * that holds only what the Dockerfile copies. Each synth also runs cdk-nag's AwsSolutions checks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { INGEST_STACK_FEATURE_FLAGS } from '../../infra/ingest-stack.ts';
import { projectPath } from '../../infra/project-path.ts';
import { buildDeployedApp, logicalId, REGISTRY_IMAGE, synth, temporaryOutdir } from '../support/synth.ts';

interface AssetManifest {
  readonly dockerImages: Record<string, { readonly source: { readonly directory: string } }>;
  readonly files: Record<string, { readonly source: { readonly path: string; readonly packaging?: string } }>;
}

/** Synthesizes into a folder of its own and returns the asset manifest too. */
function synthWithAssets(context: Record<string, unknown>, withImage: boolean) {
  const outdir = temporaryOutdir();
  const { app, stack } = buildDeployedApp({ context, outdir, ...(withImage ? {} : { workerImage: REGISTRY_IMAGE }) });
  const assembly = app.synth();
  const manifest = JSON.parse(readFileSync(join(outdir, `${assembly.getStackArtifact(stack.artifactId).stackName}.assets.json`), 'utf8')) as AssetManifest;
  return { outdir, stack, template: Template.fromStack(stack), manifest };
}

const direct = synth();
const trigger = synthWithAssets({ notificationMode: 'trigger' }, false);

describe('feature flags the stack relies on', () => {
  it('are set by the stack itself, and cdk.json says the same, so `cdk synth`, the tests and the pipeline agree', () => {
    for (const [flag, enabled] of Object.entries(INGEST_STACK_FEATURE_FLAGS)) expect(direct.stack.node.tryGetContext(flag)).toBe(enabled);
    const cdkJson = JSON.parse(readFileSync(projectPath('cdk.json'), 'utf8')) as { context: Record<string, unknown> };
    expect(cdkJson.context).toMatchObject(INGEST_STACK_FEATURE_FLAGS);
  });
});

describe('VPC flow logs', () => {
  it("go to the access-log bucket, whose policy CDK writes with the log delivery service's statements", () => {
    const { stack, template } = direct;
    const accessLogs = logicalId(stack, stack.storage.accessLogsBucket);
    const bucketArn = { 'Fn::GetAtt': [accessLogs, 'Arn'] };
    const logsSourceArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':*']] };
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      LogDestinationType: 's3',
      LogDestination: { 'Fn::Join': ['', [bucketArn, '/vpc-flow-logs/']] },
      TrafficType: 'REJECT',
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: accessLogs },
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Principal: { Service: 'delivery.logs.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [bucketArn, '/vpc-flow-logs/AWSLogs/', { Ref: 'AWS::AccountId' }, '/*']] },
            Condition: {
              StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': logsSourceArn },
            },
          },
          {
            Effect: 'Allow',
            Principal: { Service: 'delivery.logs.amazonaws.com' },
            Action: ['s3:GetBucketAcl', 's3:ListBucket'],
            Resource: bucketArn,
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': logsSourceArn } },
          },
        ]),
      },
    });
  });
});

describe('the ingest queue policy', () => {
  it('lets S3 send only from the raw bucket, and only in this account (aws:SourceArn and aws:SourceAccount)', () => {
    const { stack, template } = direct;
    const queue = logicalId(stack, stack.queues.queue);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).filter((policy) =>
      (policy.Properties.Queues as Array<{ Ref: string }>).some((ref) => ref.Ref === queue),
    );
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.Properties.PolicyDocument.Statement as Array<{ Principal?: { Service?: string } }>;
    expect(statements.filter((statement) => statement.Principal?.Service === 's3.amazonaws.com')).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
        Condition: {
          ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalId(stack, stack.storage.rawBucket), 'Arn'] } },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      },
    ]);
  });

  it('exists before S3 is told to notify the queue (S3 checks the permission then)', () => {
    const { stack, template } = direct;
    const [policy] = Object.keys(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: logicalId(stack, stack.queues.queue) }] } }));
    const [notifications] = Object.values(template.findResources('Custom::S3BucketNotifications'));
    expect(notifications?.DependsOn).toEqual(expect.arrayContaining([policy]));
  });
});

describe('the trigger Lambda', () => {
  it('ships a source map with its minified bundle and runs with --enable-source-maps', () => {
    const { stack, template, outdir, manifest } = trigger;
    const triggerFunction = template.findResources('AWS::Lambda::Function')[logicalId(stack, stack.notifications.trigger!)];
    expect(triggerFunction?.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    const bundles = Object.values(manifest.files)
      .filter((file) => file.source.packaging === 'zip')
      .map((file) => readdirSync(join(outdir, file.source.path)));
    expect(bundles).toContainEqual(expect.arrayContaining(['index.mjs', 'index.mjs.map']));
  });
});

describe("the VPC's default security group", () => {
  it('is emptied of its rules by a deploy-time custom resource', () => {
    const { stack, template } = direct;
    template.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
      DefaultSecurityGroupId: { 'Fn::GetAtt': [logicalId(stack, stack.workers.vpc), 'DefaultSecurityGroup'] },
    });
  });
});

describe('Lambda logs', () => {
  it.each([
    ['direct', direct.template],
    ['trigger', trigger.template],
  ])('in %s mode, every function, CDK deploy-time handlers included, logs to a log group that expires after logRetentionDays', (_mode, template) => {
    const functions = template.findResources('AWS::Lambda::Function');
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(functions).some((id) => id.startsWith('BucketNotificationsHandler'))).toBe(true);
    expect(Object.keys(functions).some((id) => id.startsWith('CustomVpcRestrictDefaultSG'))).toBe(true);
    for (const [id, fn] of Object.entries(functions)) {
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref;
      const retentionDays: unknown = logGroup === undefined ? undefined : logGroups[logGroup]?.Properties.RetentionInDays;
      expect({ id, retentionDays }).toEqual({ id, retentionDays: 30 });
    }
  });
});

describe('the worker image asset', () => {
  it('stages only what the Dockerfile copies, so that commits elsewhere leave its hash (and the service) alone', () => {
    const { outdir, manifest } = synthWithAssets({}, true);
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    const context = join(outdir, images[0]!.source.directory);
    // Dockerfile and .dockerignore: Docker and CDK always keep them in the context.
    expect(readdirSync(context).sort()).toEqual(['.dockerignore', 'Dockerfile', 'ops', 'package-lock.json', 'package.json', 'tsconfig.build.json', 'tsconfig.json', 'worker']);
    const workerFiles = readdirSync(join(context, 'worker'), { recursive: true }).map(String);
    expect(workerFiles).toContain('main.ts');
    expect(workerFiles.filter((file) => file.endsWith('.test.ts') || file.split('/').includes('node_modules'))).toEqual([]);
    // The scheduled reconcile runs the ops CLI from this image: ops/cli and the two ops/local modules it imports, nothing else of ops/.
    expect(readdirSync(join(context, 'ops')).sort()).toEqual(['cli', 'local']);
    expect(readdirSync(join(context, 'ops', 'local')).sort()).toEqual(['resources.ts', 'synthetic-data.ts']);
    expect(readdirSync(join(context, 'ops', 'cli'), { recursive: true }).map(String)).toContain('main.ts');
  });
});
