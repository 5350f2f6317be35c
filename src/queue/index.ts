/**
 * Durable queues on LevelDB: append (group commit), peek, ack, limits
 * with counted drop-oldest, age and idle expiry, recovery on open.
 */
export { DataStore, openDataStore } from './data-store.ts';
export { DurableQueue } from './durable-queue.ts';
export type { KvOp, KvRange, KvStore } from './kv-store.ts';
export { LevelKvStore } from './level-kv-store.ts';
export {
  InvalidQueueSpecError,
  QueueAckOutOfRangeError,
  QueueClosedError,
  QueueDeletedError,
  QueueItemTooLargeError,
  QueueNotFoundError,
  QueueRecordError,
  QueueWriteError,
} from './errors.ts';
export {
  QueueManager,
  type QueueManagerOptions,
  type StoreMark,
} from './manager.ts';
export {
  createQueueMetrics,
  QUEUE_METRIC_NAMES,
  type DropReason,
  type QueueMetrics,
} from './metrics.ts';
export {
  QUEUE_KINDS,
  type QueueItem,
  type QueueKind,
  type QueueLimits,
  type QueueSpec,
} from './types.ts';
