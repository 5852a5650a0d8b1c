/**
 * The local stack: fauxqs (S3 + SQS on one endpoint) plus what it lacks, S3 bucket notifications to
 * SQS queues (s3-notifications.ts), object tagging (object-tagging.ts), the ETag preconditions of
 * DeleteObject and CopyObject (conditional-requests.ts), bucket versioning (bucket-versioning.ts), SQS's query protocol for older clients such as the AWS CLI v2.9
 * (sqs-query-protocol.ts), queue counts as SQS reports them (visibility-expiry.ts), and AWS's limits
 * where fauxqs is kinder than AWS (strict-s3-limits.ts, strict-sqs-limits.ts), so that what works
 * here does not fail on AWS.
 */
import type { AddressInfo } from 'node:net';
import { buildApp } from 'fauxqs';
import { registerBucketVersioning } from './bucket-versioning.ts';
import { registerConditionalRequests } from './conditional-requests.ts';
import { loadFauxqsObjectActions } from './fauxqs-actions.ts';
import { createFauxqsStores } from './fauxqs-stores.ts';
import { createObjectTagStore } from './object-tag-store.ts';
import { registerObjectTagging } from './object-tagging.ts';
import { createObjectVersions } from './object-versions.ts';
import { createSequencer } from './s3-events.ts';
import {
  createNotificationDelivery,
  createSelfClients,
  registerNotificationConfigurationEndpoint,
  registerObjectCreatedNotifier,
} from './s3-notifications.ts';
import type { BucketNotifications } from './s3-notifications.ts';
import { registerStrictS3Limits } from './strict-s3-limits.ts';
import { registerStrictSqsLimits } from './strict-sqs-limits.ts';
import { registerSqsQueryProtocol } from './sqs-query-protocol.ts';
import { registerVisibilityExpiry } from './visibility-expiry.ts';

export interface LocalStackOptions {
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1: the emulator checks no credentials, so it stays on loopback unless told otherwise. */
  readonly host?: string;
  /** Default us-east-1. */
  readonly region?: string;
  /** fauxqs request logging (pino on stdout). Default off. */
  readonly logger?: boolean;
}

export interface LocalStack {
  /** http://127.0.0.1:PORT: S3 (path-style) and SQS on one endpoint. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  /** Closes the server and waits for notification deliveries in flight. Idempotent. */
  stop(): Promise<void>;
}

/** fauxqs puts every queue in this account. */
const LOCAL_ACCOUNT_ID = '000000000000';

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const stores = await createFauxqsStores();
  const versions = createObjectVersions(stores.s3Store);
  const app = buildApp({ logger: options.logger ?? false, defaultRegion: region, stores });

  // Answers query-protocol requests by sending their JSON form through this same server, hooks and all.
  registerSqsQueryProtocol(app);
  // Before every other hook: a request AWS refuses must reach neither fauxqs nor the notifier.
  registerStrictS3Limits(app);
  // Next: its onSend hook must follow fauxqs's own without a pause (see object-tagging.ts).
  registerObjectTagging(app, createObjectTagStore(versions));
  registerStrictSqsLimits(app);
  registerVisibilityExpiry(app, stores.sqsStore);

  const clients = createSelfClients(() => endpointOf(app.server.address() as AddressInfo | null, host));
  const notifications: BucketNotifications = new Map();
  const delivery = createNotificationDelivery({ clients, region, ownerPrincipalId: LOCAL_ACCOUNT_ID });
  registerNotificationConfigurationEndpoint(app, { notifications, clients, region });
  registerObjectCreatedNotifier(app, { notifications, delivery, nextSequencer: createSequencer() });
  // The last two preHandlers: from the precondition's check and the version's lookup to fauxqs's delete or
  // copy, no pause (see conditional-requests.ts).
  registerConditionalRequests(app, versions);
  registerBucketVersioning(app, { versions, store: stores.s3Store, actions: await loadFauxqsObjectActions() });

  await app.listen({ port: options.port ?? 0, host });
  const { port } = app.server.address() as AddressInfo;
  const endpoint = endpointOf({ port }, host);

  const stop = async (): Promise<void> => {
    // Deliveries talk to this very server, so they must finish before it closes.
    await delivery.settled();
    await app.close();
    await delivery.settled();
    clients.destroy();
  };
  let stopping: Promise<void> | undefined;
  return { endpoint, port, region, stop: () => (stopping ??= stop()) };
}

function endpointOf(address: Pick<AddressInfo, 'port'> | null, host: string): string {
  if (address === null) throw new Error('The local stack is not listening');
  return `http://${endpointHost(host)}:${address.port}`;
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
