import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';

export interface AwsClientOptions {
  readonly region: string;
  /** Set for the local emulator; unset on AWS so the SDK resolves the real endpoints. */
  readonly endpoint?: string | undefined;
  readonly forcePathStyle?: boolean;
  /** A request whose socket stays silent this long fails (and is retried); default 60 s, above SQS's 20 s long poll. */
  readonly idleTimeoutSeconds?: number;
  /** Sockets each client may open to its service at once; default the SDK's 50 each. */
  readonly maxSockets?: SocketPoolSizes;
}

export interface SocketPoolSizes {
  readonly s3: number;
  readonly sqs: number;
}

/** What a worker may have going at once, for sizing its socket pools. */
export interface WorkerRequestLoad {
  /** The ceiling on files in flight. */
  readonly maxFilesInFlight: number;
  /** Parts each output uploads at once (UPLOAD_QUEUE_SIZE). */
  readonly uploadQueueSize: number;
  /** Long polls the worker keeps open. */
  readonly receiveLoops: number;
}

/** Requests outside any file's share: the device registry, the queue-depth sampler, a spare. */
const SPARE_SOCKETS = 4;
/** A file writes two outputs at most: processed records and rejected lines. */
const OUTPUTS_PER_FILE = 2;
/** SQS requests of a batch kind (deletes, heartbeats) carry ten messages each. */
const MESSAGES_PER_BATCH_REQUEST = 10;

/**
 * Sockets enough that no request waits for one at the ceiling, where the SDK's default of 50 per client
 * would queue uploads behind each other and requests behind long polls. S3: per file its GetObject
 * stream and each output's parts in flight. SQS: the long polls, a visibility change or DLQ copy per
 * held message (retry, release, dead-letter), and the batched deletes and heartbeats.
 */
export function workerSocketPools(load: WorkerRequestLoad): SocketPoolSizes {
  const files = load.maxFilesInFlight;
  const batchRequests = Math.ceil(files / MESSAGES_PER_BATCH_REQUEST);
  return {
    s3: files * (1 + OUTPUTS_PER_FILE * load.uploadQueueSize) + SPARE_SOCKETS,
    sqs: load.receiveLoops + files + 2 * batchRequests + SPARE_SOCKETS,
  };
}

const CONNECTION_TIMEOUT_MS = 5_000;
const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

export interface AwsClients {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** For completion events (FILE_EVENTS_TOPIC_ARN); opens no connection unless used. */
  readonly sns: SNSClient;
}

/** The emulator checks no signature, but the SDK refuses to send unsigned requests. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export function createAwsClients(options: AwsClientOptions): AwsClients {
  const local = options.endpoint !== undefined;
  const common = (maxSockets: number | undefined) => ({
    region: options.region,
    requestHandler: {
      // Without these an S3 request that is accepted and never answered holds its file, and its message, for ever.
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: (options.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
      ...(maxSockets === undefined ? {} : { httpAgent: { keepAlive: true, maxSockets }, httpsAgent: { keepAlive: true, maxSockets } }),
    },
    ...(local ? { endpoint: options.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
  return {
    s3: new S3Client({ ...common(options.maxSockets?.s3), forcePathStyle: options.forcePathStyle ?? local }),
    sqs: new SQSClient(common(options.maxSockets?.sqs)),
    // One publish per file, after its outputs: the SDK's default pool (50) is plenty.
    sns: new SNSClient(common(undefined)),
  };
}

export function destroyAwsClients(clients: AwsClients): void {
  clients.s3.destroy();
  clients.sqs.destroy();
  clients.sns.destroy();
}
