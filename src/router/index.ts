export { Router, DEFAULT_MAX_MESSAGE_BYTES } from './router.ts';
export type { RouterOptions } from './router.ts';
export type { RouterStatus, NamespaceStatus } from './status.ts';
export { SubscriptionIndex } from './subscription-index.ts';
export {
  downlinkQueueId,
  subscriptionQueueId,
  trunkQueueId,
} from './queue-ids.ts';
export * from './errors.ts';
export { createRouterMetrics } from './metrics.ts';
export { serveMetrics } from './metrics-server.ts';
