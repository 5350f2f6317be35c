/**
 * storage/: the `http_v1` storage server that `wavemq storage serve` runs.
 * Objects (revocation secrets above all) by hash in a LevelDB, served as
 * JSON over HTTP. The client side is wave/'s HttpStorageProvider.
 */
export {
  StorageBadRequestError,
  StorageMethodError,
  StorageNotFoundError,
  StorageRequestError,
  StorageTooLargeError,
} from './errors.ts';
export {
  createStorageMetrics,
  STORAGE_METRIC_NAMES,
  type StorageMetrics,
  type StorageRoute,
} from './metrics.ts';
export { ObjectStore } from './object-store.ts';
export { STORAGE_API_PATH } from './requests.ts';
export {
  DEFAULT_MAX_OBJECT_BYTES,
  DEFAULT_STORAGE_PORT,
  StorageServer,
  storageUrl,
  type StorageServerOptions,
} from './server.ts';
