/**
 * The data lake in the synthesized template: the Glue database and tables over the Parquet output (with
 * partition projection on dt), and the Athena workgroup with its results bucket. Each synth also runs
 * cdk-nag's AwsSolutions checks, which fail the synth on any finding not acknowledged with a reason.
 */
import { describe, expect, it } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { databaseNameFor } from '../../infra/data-lake.ts';
import { PARQUET_COLUMNS } from '../../worker/output/parquet/schema.ts';
import { logicalId, synth } from '../support/synth.ts';

const lake = synth({ outputFormat: 'parquet', dataLake: true });
const { stack } = lake;
const processedBucket = { Ref: logicalId(stack, stack.storage.processedBucket) };
const s3Uri = (bucket: unknown, path: string) => ({ 'Fn::Join': ['', ['s3://', bucket, path]] });

type TableInput = Record<string, unknown> & { StorageDescriptor: Record<string, unknown> };

function tableNamed(name: string): TableInput {
  const tables = Object.values(lake.template.findResources('AWS::Glue::Table'));
  const table = tables.find((candidate) => candidate.Properties.TableInput.Name === name);
  expect(table).toBeDefined();
  expect(table!.Properties.DatabaseName).toEqual({ Ref: stack.getLogicalId(stack.dataLake!.database) });
  return table!.Properties.TableInput as TableInput;
}

const PARQUET_STORAGE = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
};

const GLUE_COLUMNS = PARQUET_COLUMNS.map(({ name, glueType, comment }) => ({ Name: name, Type: glueType, ...(comment === undefined ? {} : { Comment: comment }) }));

describe('the Glue catalog', () => {
  it('has one database named after the stack', () => {
    lake.template.resourceCountIs('AWS::Glue::Database', 1);
    lake.template.hasResourceProperties('AWS::Glue::Database', { CatalogId: { Ref: 'AWS::AccountId' }, DatabaseInput: { Name: 'iot_ingest' } });
    expect(databaseNameFor('Prod-IotIngest')).toBe('prod_iot_ingest');
  });

  it('has the readings table: the writer schema plus dt, Parquet, over the Parquet prefix of the processed bucket', () => {
    const table = tableNamed('readings');
    expect(table.TableType).toBe('EXTERNAL_TABLE');
    expect(table.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string' }]);
    expect(table.StorageDescriptor).toEqual({
      ...PARQUET_STORAGE,
      Columns: GLUE_COLUMNS,
      Location: s3Uri(processedBucket, '/parquet/'),
    });
  });

  it('declares extra, the JSON object of the fields outside the other columns, as a string column in both tables', () => {
    for (const name of ['readings', 'readings_undated']) {
      const columns = tableNamed(name).StorageDescriptor.Columns as Array<{ Name: string; Type: string; Comment?: string }>;
      expect(columns.map((column) => column.Name)).toStrictEqual([
        'device_id',
        'location',
        'temperature',
        'humidity',
        'pressure',
        'timestamp',
        'location_id',
        'temp_fahrenheit',
        'extra',
      ]);
      expect(columns.at(-1)).toStrictEqual({ Name: 'extra', Type: 'string', Comment: expect.stringContaining('json_extract_scalar(extra') as unknown });
    }
  });

  it('projects the dt partitions by day from 2020-01-01 to now, so no crawler is needed', () => {
    expect(tableNamed('readings').Parameters).toEqual({
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': s3Uri(processedBucket, '/parquet/dt=${dt}/'),
    });
    lake.template.resourceCountIs('AWS::Glue::Crawler', 0);
  });

  it('has an unpartitioned readings_undated table over dt=unknown, which the date projection cannot reach', () => {
    const table = tableNamed('readings_undated');
    expect(table.PartitionKeys).toBeUndefined();
    expect(table.Parameters).toEqual({ EXTERNAL: 'TRUE', classification: 'parquet' });
    expect(table.StorageDescriptor).toEqual({
      ...PARQUET_STORAGE,
      Columns: GLUE_COLUMNS,
      Location: s3Uri(processedBucket, '/parquet/dt=unknown/'),
    });
  });
});

describe('the Athena workgroup', () => {
  it('enforces its configuration: SSE-S3 results in its own bucket, a 10 GiB cutoff per query, CloudWatch metrics', () => {
    const resultsBucket = { Ref: logicalId(stack, stack.dataLake!.resultsBucket) };
    lake.template.resourceCountIs('AWS::Athena::WorkGroup', 1);
    lake.template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'IotIngest',
      State: 'ENABLED',
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: s3Uri(resultsBucket, '/'),
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
          ExpectedBucketOwner: { Ref: 'AWS::AccountId' },
        },
      },
    });
  });

  it('writes results to a bucket that is encrypted, TLS-only, private, logged and expires them after 30 days', () => {
    const bucketId = logicalId(stack, stack.dataLake!.resultsBucket);
    const bucket = lake.template.findResources('AWS::S3::Bucket')[bucketId];
    expect(bucket?.DeletionPolicy).toBe('Retain');
    expect(bucket?.Properties).toEqual({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logicalId(stack, stack.storage.accessLogsBucket) }, LogFilePrefix: 'athena-results/' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'expire-query-results', ExpirationInDays: 30, Status: 'Enabled' },
          { Id: 'abort-incomplete-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' },
        ],
      },
    });
    const policy = Object.values(lake.template.findResources('AWS::S3::BucketPolicy')).find((candidate) => candidate.Properties.Bucket.Ref === bucketId);
    expect(policy?.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
    );
  });
});

describe('with the data lake', () => {
  it('tells the worker to write Parquet under parquet/ and names the database, workgroup and results bucket in outputs', () => {
    lake.template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'OUTPUT_FORMAT', Value: 'parquet' },
            { Name: 'PARQUET_PREFIX', Value: 'parquet/' },
          ]),
        }),
      ],
    });
    lake.template.hasOutput('GlueDatabaseName', { Value: { Ref: stack.getLogicalId(stack.dataLake!.database) } });
    lake.template.hasOutput('AthenaWorkGroupName', { Value: { Ref: stack.getLogicalId(stack.dataLake!.workGroup) } });
    lake.template.hasOutput('AthenaResultsBucketName', { Value: { Ref: logicalId(stack, stack.dataLake!.resultsBucket) } });
  });

  it("adds the results bucket's access-log statement to the access-log bucket's policy and keeps the flow logs' delivery statements", () => {
    // The policy is replaced whole on update: statements the log service had added itself would be gone.
    const accessLogsPolicy = (synthesized: typeof lake) => {
      const bucketId = logicalId(synthesized.stack, synthesized.stack.storage.accessLogsBucket);
      const policies = Object.values(synthesized.template.findResources('AWS::S3::BucketPolicy')).filter((policy) => policy.Properties.Bucket.Ref === bucketId);
      expect(policies).toHaveLength(1);
      return policies[0]!.Properties.PolicyDocument.Statement as Array<{ Principal?: { Service?: string }; Resource?: unknown }>;
    };
    const before = accessLogsPolicy(synth({ outputFormat: 'parquet' }));
    const after = accessLogsPolicy(lake);
    expect(before.filter((statement) => statement.Principal?.Service === 'delivery.logs.amazonaws.com')).toHaveLength(2);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.slice(before.length)).toEqual([
      expect.objectContaining({
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack, stack.storage.accessLogsBucket), 'Arn'] }, '/athena-results/*']] },
      }),
    ]);
  });
});

describe('without the data lake', () => {
  it.each([
    ['the default settings', {}],
    ['Parquet output alone', { outputFormat: 'parquet' }],
  ])('with %s, has no Glue, Athena or results bucket', (_, context) => {
    const { template, stack: plain } = synth(context);
    expect(plain.dataLake).toBeUndefined();
    for (const type of ['AWS::Glue::Database', 'AWS::Glue::Table', 'AWS::Athena::WorkGroup']) template.resourceCountIs(type, 0);
    template.resourceCountIs('AWS::S3::Bucket', 3);
    expect(Object.keys(template.findOutputs('*')).filter((name) => /Glue|Athena/.test(name))).toEqual([]);
  });
});

describe('the worker with Parquet output', () => {
  it('may delete objects under parquet/ only (partial Parquet of a failed file), and only when the output is Parquet', () => {
    const { stack, template } = synth({ outputFormat: 'parquet' });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Sid: 'RemovePartialParquet',
            Effect: 'Allow',
            Action: 's3:DeleteObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [logicalId(stack, stack.storage.processedBucket), 'Arn'] }, '/parquet/*']] },
          },
        ]),
      },
    });
    expect(JSON.stringify(synth().template.toJSON())).not.toContain('RemovePartialParquet');
  });
});
