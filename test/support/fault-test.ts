/**
 * What every fault test needs: the test's own SDK clients, fault proxies in front of the emulator that
 * are closed after each test, and worker processes that are stopped after each test.
 */
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { destroyAwsClients, type AwsClients } from '../../worker/common/aws-clients.ts';
import { testClients } from './emulator.ts';
import { startFaultProxy, type FaultProxy, type FaultRule } from './fault-proxy.ts';
import { stopWorkerProcesses } from './worker-process.ts';

export function emulatorEndpoint(): string {
  const value = process.env['IOT_TEST_ENDPOINT'];
  if (value === undefined) throw new Error('IOT_TEST_ENDPOINT is not set: run through jest');
  return value;
}

export interface FaultTest {
  readonly clients: AwsClients;
  /** A proxy in front of the emulator, closed after the test. */
  startProxy(rule?: FaultRule): Promise<FaultProxy>;
}

/** Registers the hooks of a fault test file and returns what its tests use. */
export function useFaultTest(): FaultTest {
  let clients: AwsClients | undefined;
  const proxies: FaultProxy[] = [];
  beforeAll(() => {
    clients = testClients();
  });
  afterEach(async () => {
    await stopWorkerProcesses();
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });
  afterAll(() => {
    if (clients) destroyAwsClients(clients);
  });
  return {
    get clients(): AwsClients {
      if (clients === undefined) throw new Error('the clients exist only inside tests');
      return clients;
    },
    async startProxy(rule) {
      const proxy = await startFaultProxy(emulatorEndpoint(), rule);
      proxies.push(proxy);
      return proxy;
    },
  };
}
