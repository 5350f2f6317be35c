/**
 * The figures `wavemq status` prints: the router's identity, and per
 * namespace with a designated router, the link state and the trunk
 * backlog (length, bytes, age of the oldest message, drops, attempts).
 */
import type { Router } from './router.ts';
import { trunkQueueId } from './queue-ids.ts';

/** One namespace's uplink and trunk backlog. */
export interface NamespaceStatus {
  ns: string;
  link: string;
  address: string;
  backlog: number;
  backlogBytes: number;
  oldestAgeMs: number | null;
  drops: number;
  connectAttempts: number;
  /** Successful handshakes: 1 after the first connect, +1 per reconnect. */
  connects: number;
  /** Trunk messages acked per second, smoothed. */
  drainRate: number;
}

/** What the status request returns. */
export interface RouterStatus {
  [key: string]: unknown;
  router: string;
  entity: string;
  uptimeMs: number;
  subscriptions: number;
  queues: number;
  namespaces: NamespaceStatus[];
  /** Namespaces this router is the designated router for. */
  designatedFor: string[];
}

/** Collects the status of `router`. */
export function routerStatus(router: Router): RouterStatus {
  const now = router.clock.now();
  const namespaces: NamespaceStatus[] = [];
  for (const { namespace, address } of router.o.config.routing.routers) {
    const q = router.queues.get(trunkQueueId(namespace));
    const uplink = router.uplinks.get(namespace);
    namespaces.push({
      ns: namespace,
      link: uplink?.linkState ?? 'stopped',
      address: `${address.host}:${address.port}`,
      backlog: q?.length ?? 0,
      backlogBytes: q?.bytes ?? 0,
      oldestAgeMs:
        q?.oldestEnqueuedAtMs === undefined ? null : now - q.oldestEnqueuedAtMs,
      drops: q?.drops ?? 0,
      connectAttempts: uplink?.attempts ?? 0,
      connects: uplink?.connects ?? 0,
      drainRate: Math.round(uplink?.drainRate ?? 0),
    });
  }
  return {
    router: router.id,
    entity: router.entityHash,
    uptimeMs: now - router.startedAtMs,
    subscriptions: router.subscriptions.index.size,
    queues: router.queues.list().length,
    namespaces,
    designatedFor: [...router.routeProofs.keys()],
  };
}
