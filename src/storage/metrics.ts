/** Prometheus metrics of the storage server. */
import { Counter, type Registry } from 'prom-client';

/** Routes as counted: the API's three, and `other` for anything else. */
export type StorageRoute = 'info' | 'put' | 'get' | 'other';

/** The counters the storage server updates. */
export interface StorageMetrics {
  /** Requests answered, by route and HTTP status. */
  requests: Counter<'route' | 'status'>;
  /** Objects written (not counting puts of objects already held). */
  objectsWritten: Counter;
}

/** Every metric name {@link createStorageMetrics} registers. */
export const STORAGE_METRIC_NAMES = [
  'wavemq_storage_requests_total',
  'wavemq_storage_objects_written_total',
] as const;

/** Creates and registers the storage server's metrics in `r`. */
export function createStorageMetrics(r: Registry): StorageMetrics {
  return {
    requests: new Counter({
      name: 'wavemq_storage_requests_total',
      help: 'Storage server requests answered, by route and HTTP status',
      labelNames: ['route', 'status'],
      registers: [r],
    }),
    objectsWritten: new Counter({
      name: 'wavemq_storage_objects_written_total',
      help: 'Objects written by the storage server',
      registers: [r],
    }),
  };
}
