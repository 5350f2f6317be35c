/**
 * Names of the router's queues in the queue store: one per local
 * subscription, one trunk per namespace with a designated router, and at
 * a designated router one downlink per (site, subscription).
 */
import { createHash } from 'node:crypto';
import type { QueueId } from '../common/ids.ts';

/** The queue id of the subscription (requester, client identifier). */
export function subscriptionQueueId(requester: string, id: string): QueueId {
  const h = createHash('sha256').update(`${requester}\n${id}`).digest();
  return `sub/${h.subarray(0, 18).toString('base64url')}` as QueueId;
}

/** A queue for namespace `ns`'s designated router. */
export function trunkQueueId(ns: string): QueueId {
  return `trunk/${ns}` as QueueId;
}

/** The queue a designated router keeps for a site's subscription. */
export function downlinkQueueId(site: string, subscription: string): QueueId {
  return `down/${site}/${subscription}` as QueueId;
}

/** The site router a downlink queue feeds, if `queue` is one. */
export function downlinkRecipient(queue: QueueId): string | undefined {
  if (!queue.startsWith('down/')) return undefined;
  return queue.slice(5, queue.indexOf('/', 5));
}
