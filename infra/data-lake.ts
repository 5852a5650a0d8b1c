import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PARQUET_COLUMNS, PARTITION_COLUMN } from '../worker/output/parquet/schema.ts';

export const READINGS_TABLE = 'readings';
/** Records without a usable timestamp, under `dt=unknown/`, which a date projection cannot reach. */
export const UNDATED_READINGS_TABLE = 'readings_undated';
export const RESULTS_RETENTION_DAYS = 30;
export const BYTES_SCANNED_CUTOFF_PER_QUERY = 10 * 1024 ** 3;

export interface DataLakeProps {
  readonly processedBucket: s3.IBucket;
  /** Where the worker writes Parquet in the processed bucket, e.g. `parquet/`. */
  readonly parquetPrefix: string;
  readonly accessLogsBucket: s3.IBucket;
}

const PARQUET_STORAGE = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
  // Imported from the writer's schema so that the table cannot drift from the files.
  columns: PARQUET_COLUMNS.map(({ name, glueType, comment }) => ({ name, type: glueType, ...(comment === undefined ? {} : { comment }) })),
} as const;

/** A Glue database name from the stack name: `IotIngest` → `iot_ingest`, so that two stacks in an account do not collide. */
export function databaseNameFor(stackName: string): string {
  return stackName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
}

/**
 * The Parquet output as Athena tables, and a workgroup to query them in. Partitions come from
 * partition projection on `dt`, so no crawler and no partition maintenance are needed.
 */
export class DataLake extends Construct {
  readonly database: glue.CfnDatabase;
  readonly readingsTable: glue.CfnTable;
  readonly undatedReadingsTable: glue.CfnTable;
  readonly resultsBucket: s3.Bucket;
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const tableLocation = `s3://${props.processedBucket.bucketName}/${props.parquetPrefix}`;

    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: databaseNameFor(stack.stackName), description: 'IoT sensor readings written as Parquet by the ingest workers' },
    });

    this.readingsTable = new glue.CfnTable(this, 'ReadingsTable', {
      catalogId: stack.account,
      databaseName: this.database.ref,
      tableInput: {
        name: READINGS_TABLE,
        description: 'Processed readings, partitioned by the UTC day of their timestamp',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: PARTITION_COLUMN, type: 'string' }],
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          'projection.enabled': 'true',
          [`projection.${PARTITION_COLUMN}.type`]: 'date',
          [`projection.${PARTITION_COLUMN}.format`]: 'yyyy-MM-dd',
          [`projection.${PARTITION_COLUMN}.range`]: '2020-01-01,NOW',
          [`projection.${PARTITION_COLUMN}.interval`]: '1',
          [`projection.${PARTITION_COLUMN}.interval.unit`]: 'DAYS',
          'storage.location.template': `${tableLocation}${PARTITION_COLUMN}=\${${PARTITION_COLUMN}}/`,
        },
        storageDescriptor: { ...PARQUET_STORAGE, location: tableLocation },
      },
    });

    this.undatedReadingsTable = new glue.CfnTable(this, 'UndatedReadingsTable', {
      catalogId: stack.account,
      databaseName: this.database.ref,
      tableInput: {
        name: UNDATED_READINGS_TABLE,
        description: 'Processed readings without a usable timestamp (dt=unknown), which the date projection of readings cannot reach',
        tableType: 'EXTERNAL_TABLE',
        parameters: { EXTERNAL: 'TRUE', classification: 'parquet' },
        storageDescriptor: { ...PARQUET_STORAGE, location: `${tableLocation}${PARTITION_COLUMN}=unknown/` },
      },
    });

    this.resultsBucket = new s3.Bucket(this, 'QueryResults', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        { id: 'expire-query-results', expiration: Duration.days(RESULTS_RETENTION_DAYS) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      // Like the other buckets: a stack deletion cannot delete a bucket with objects in it.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: stack.stackName,
      description: 'Queries over the IoT readings tables',
      state: 'ENABLED',
      // Lets a stack deletion remove the workgroup together with its saved queries.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: BYTES_SCANNED_CUTOFF_PER_QUERY,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: stack.account,
        },
      },
    });
  }
}
