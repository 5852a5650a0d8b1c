import { createAwsClients, destroyAwsClients } from '../../../worker/aws-clients.ts';
import type { AwsClients } from '../../../worker/aws-clients.ts';

/** SDK clients pointed at the local stack itself, one pair per region (fauxqs scopes queues by the signing region). */
export interface SelfClients {
  forRegion(region: string): AwsClients;
  destroy(): void;
}

/** `endpoint` is read when the first client is made: the stack knows its port only once it listens. */
export function createSelfClients(endpoint: () => string): SelfClients {
  const byRegion = new Map<string, AwsClients>();
  return {
    forRegion(region) {
      let clients = byRegion.get(region);
      if (clients === undefined) {
        clients = createAwsClients({ region, endpoint: endpoint(), forcePathStyle: true });
        byRegion.set(region, clients);
      }
      return clients;
    },
    destroy() {
      byRegion.forEach(destroyAwsClients);
      byRegion.clear();
    },
  };
}
