import type { NamespaceId } from '../common/index.ts';
import type { HostPort } from './host-port.ts';

/** One `[WaveConfig.storage.<name>]` provider. */
export interface StorageProviderConfig {
  /** Only `http_v1` exists: a storage server spoken to over HTTP(S). */
  provider: 'http_v1';
  /** Base URL of the server, http: or https:. */
  url: string;
  /** Accepted for compatibility; no provider reads it. Default `'1'`. */
  version: string;
}

/** A `[[RoutingConfig.Router]]` entry: who carries a namespace upstream. */
export interface DesignatedRouterConfig {
  /** Canonical namespace hash (base64url, no padding). */
  namespace: NamespaceId;
  /** Peer address of the namespace's designated router. */
  address: HostPort;
}

/**
 * A validated router configuration, with every default filled in. Times
 * are milliseconds and sizes bytes; paths are absolute.
 */
export interface RouterConfig {
  /** Absolute path of the file it was read from; undefined if built in. */
  file: string | undefined;
  wave: {
    /** Directory of the WAVE state store. */
    databasePath: string;
    /** Treat objects as not revoked when storage can't be reached. */
    defaultToUnrevoked: boolean;
    /** How long a checked grant is trusted before revocation is asked again. */
    revocationRecheckMs: number;
    /** Storage providers by name; always has one named `default`. */
    storage: Record<string, StorageProviderConfig>;
  };
  queue: {
    /** Directory of the durable queue store. */
    dataStorePath: string;
    /** Longest a subscription queue lives undrained; also the cap. */
    queueExpiryMs: number;
    subscriptionQueueMaxLength: number;
    subscriptionQueueMaxBytes: number;
    trunkingQueueMaxLength: number;
    trunkingQueueMaxBytes: number;
    /** Period of the queue housekeeping task. */
    flushIntervalMs: number;
  };
  /** Where agents connect. */
  local: { listenAddr: HostPort };
  /** Where other routers connect, and the timing of router links. */
  peer: { listenAddr: HostPort; keepAliveMs: number; idleTimeoutMs: number };
  routing: {
    /**
     * Directory of the persisted-message store. May equal
     * `queue.dataStorePath`: the example file users copied sets both to
     * the same directory.
     */
    persistDataStorePath: string;
    /** The router's entity secret; created when missing. */
    routerEntityFile: string;
    /** Route proofs for the namespaces this router is designated for. */
    designatedNamespaceFiles: string[];
    /** Designated routers to trunk to, at most one per namespace. */
    routers: DesignatedRouterConfig[];
  };
  /** Prometheus endpoint; undefined when disabled. */
  metrics: { listenAddr: HostPort | undefined };
}
