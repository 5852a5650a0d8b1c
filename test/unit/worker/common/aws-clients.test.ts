import { describe, expect, it } from '@jest/globals';
import { createAwsClients, destroyAwsClients, workerSocketPools } from '../../../../worker/common/aws-clients.ts';

interface HandlerConfig {
  readonly httpsAgent: { readonly maxSockets: number; readonly keepAlive: boolean };
  readonly httpAgentProvider: () => Promise<{ readonly maxSockets: number }>;
  readonly socketTimeout: number;
}

/** The request handler's resolved settings; resolving them sends nothing. */
async function handlerConfig(client: { config: { requestHandler: unknown } }): Promise<HandlerConfig> {
  return (client.config.requestHandler as { configProvider: Promise<HandlerConfig> }).configProvider;
}

describe('workerSocketPools', () => {
  it('gives S3 a socket per file for its read and one per part in flight of each of two outputs, SQS its long polls and a request per held message', () => {
    expect(workerSocketPools({ maxFilesInFlight: 128, uploadQueueSize: 2, receiveLoops: 4 })).toEqual({
      s3: 128 * (1 + 2 * 2) + 4,
      sqs: 4 + 128 + 2 * 13 + 4,
    });
    expect(workerSocketPools({ maxFilesInFlight: 1, uploadQueueSize: 1, receiveLoops: 1 })).toEqual({ s3: 7, sqs: 8 });
  });
});

describe('createAwsClients', () => {
  it('sizes each client’s keep-alive socket pools as asked, keeping the timeouts', async () => {
    const clients = createAwsClients({ region: 'eu-west-1', idleTimeoutSeconds: 70, maxSockets: { s3: 644, sqs: 162 } });
    try {
      const [s3, sqs] = await Promise.all([handlerConfig(clients.s3), handlerConfig(clients.sqs)]);
      expect([s3.httpsAgent.maxSockets, (await s3.httpAgentProvider()).maxSockets, s3.httpsAgent.keepAlive]).toEqual([644, 644, true]);
      expect([sqs.httpsAgent.maxSockets, (await sqs.httpAgentProvider()).maxSockets, sqs.httpsAgent.keepAlive]).toEqual([162, 162, true]);
      expect([s3.socketTimeout, sqs.socketTimeout]).toEqual([70_000, 70_000]);
    } finally {
      destroyAwsClients(clients);
    }
  });

  it('leaves the SDK’s 50 sockets when not asked', async () => {
    const clients = createAwsClients({ region: 'eu-west-1' });
    try {
      expect((await handlerConfig(clients.s3)).httpsAgent.maxSockets).toBe(50);
    } finally {
      destroyAwsClients(clients);
    }
  });
});
