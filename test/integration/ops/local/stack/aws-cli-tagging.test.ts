/**
 * `aws s3api put-object-tagging / get-object-tagging / delete-object-tagging` work on the running
 * local stack: the real AWS CLI (botocore, its own XML serializer and Content-MD5) tags an object,
 * and what it wrote is what the SDK reads, and the other way round.
 */
import { afterAll, beforeAll, expect, it, jest } from '@jest/globals';
import { CreateBucketCommand, GetObjectTaggingCommand, PutObjectCommand, PutObjectTaggingCommand, type Tag } from '@aws-sdk/client-s3';
import { destroyAwsClients, type AwsClients } from '../../../../../worker/common/aws-clients.ts';
import { testClients, uniqueName } from '../../../../support/emulator.ts';
import { awsCliJson, awsCliTitle, describeAwsCli, requireAwsCli, runAwsCli, type AwsCliTarget, testTarget } from './aws-cli-harness.ts';

// Each CLI call starts a Python interpreter: a second or more on these machines.
jest.setTimeout(120_000);

describeAwsCli(`the AWS CLI tags objects on the local stack: ${awsCliTitle}`, () => {
  let clients: AwsClients;
  let target: AwsCliTarget;
  const bucket = uniqueName('cli-tagging');
  // XML's special characters, a space, an equals sign and non-ASCII, in keys and values.
  const cliTags: Tag[] = [
    { Key: 'iot-ingest', Value: 'processed' },
    { Key: 'a&b <c>', Value: 'x=y "z" ü温' },
  ];

  beforeAll(async () => {
    requireAwsCli();
    clients = testClients();
    target = testTarget();
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'raw/file.jsonl', Body: '{}\n' }));
  });

  afterAll(() => {
    destroyAwsClients(clients);
  });

  const aws = (...args: string[]) => awsCliJson(target, ['s3api', ...args, '--bucket', bucket, '--key', 'raw/file.jsonl']);

  it('put-object-tagging stores what get-object-tagging and the SDK read back', async () => {
    await aws('put-object-tagging', '--tagging', JSON.stringify({ TagSet: cliTags }));

    expect(await aws('get-object-tagging')).toEqual({ TagSet: cliTags });
    const sdk = await clients.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'raw/file.jsonl' }));
    expect(sdk.TagSet).toEqual(cliTags);
  });

  it('get-object-tagging reads what the SDK wrote, and delete-object-tagging empties the set', async () => {
    const sdkTags: Tag[] = [{ Key: 'iot-ingest-processed', Value: '42' }];
    await clients.s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 'raw/file.jsonl', Tagging: { TagSet: sdkTags } }));

    expect(await aws('get-object-tagging')).toEqual({ TagSet: sdkTags });
    await aws('delete-object-tagging');
    expect(await aws('get-object-tagging')).toEqual({ TagSet: [] });
  });

  it('reports NoSuchKey for a missing object, as on S3', async () => {
    const result = await runAwsCli(target, ['s3api', 'get-object-tagging', '--bucket', bucket, '--key', 'raw/missing.jsonl']);

    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('NoSuchKey');
  });
});
