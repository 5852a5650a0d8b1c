import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsClientOptions {
  readonly region: string;
  /** Set for the local emulator; unset on AWS so the SDK resolves the real endpoints. */
  readonly endpoint?: string | undefined;
  readonly forcePathStyle?: boolean;
  /** A request whose socket stays silent this long fails (and is retried); default 60 s, above SQS's 20 s long poll. */
  readonly idleTimeoutSeconds?: number;
}

const CONNECTION_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

export interface AwsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
}

/** The emulator checks no signature, but the SDK refuses to send unsigned requests. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export function createAwsClients(options: AwsClientOptions): AwsClients {
  const local = options.endpoint !== undefined;
  const common = {
    region: options.region,
    // Without these an S3 request that is accepted and never answered holds its file, and its message, for ever.
    requestHandler: {
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: (options.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
    },
    ...(local ? { endpoint: options.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
  };
  return {
    s3: new S3Client({ ...common, forcePathStyle: options.forcePathStyle ?? local }),
    sqs: new SQSClient(common),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.sqs.destroy();
}
