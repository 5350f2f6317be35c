import * as check from './checks.ts';
import type { Check } from './checks.ts';

/**
 * One configuration key, in the form convict takes (`doc`, `default`,
 * `env`) plus our own validation. `format: '*'` keeps convict from
 * coercing values (it would read the TOML string "10" as a number and
 * "no" as true); `check` validates instead, so a mistyped value is an
 * error naming the key.
 */
export interface Leaf {
  doc: string;
  /** Value when the file leaves the key out; null makes it required. */
  default: unknown;
  format: '*';
  check: Check;
  /** For lists: checked on every element, reported as `key[i]`. */
  each?: Check;
  /** For a table of tables (`map`) or an array of tables (`list`). */
  entries?: { kind: 'map' | 'list'; section: Section };
  /** Environment variable that overrides the file. */
  env?: string;
}

/** The keys of one TOML table, by their canonical spelling. */
export type Section = Record<string, Leaf>;

function leaf(doc: string, value: unknown, c: Check): Leaf {
  return { doc, default: value, format: '*', check: c };
}

/** Keys of one `[WaveConfig.storage.<name>]` provider. */
export const STORAGE_ENTRY: Section = {
  provider: leaf(
    'Provider kind; only http_v1.',
    'http_v1',
    check.storageProvider,
  ),
  url: leaf('Base URL of the storage server.', null, check.httpUrl),
  version: leaf('Accepted for compatibility; ignored.', '1', check.anyString),
  /**
   * `v1key` and `v1auditors`: the original read these to check a storage
   * transparency log; no provider here does, so they are accepted so that
   * existing files load, and ignored.
   */
  v1key: leaf(
    'Ignored: verification key of the original storage log.',
    '',
    check.anyString,
  ),
  v1auditors: leaf(
    'Ignored: auditors of the original storage log.',
    '',
    check.anyString,
  ),
};

/** Keys of one `[[RoutingConfig.Router]]` entry. */
export const ROUTER_ENTRY: Section = {
  Namespace: leaf(
    'Namespace hash (base64url multihash).',
    null,
    check.namespaceHash,
  ),
  Address: leaf(
    'Peer address (host:port) of its designated router.',
    null,
    check.hostPort,
  ),
};

/** The public storage server the original shipped with. */
export const DEFAULT_STORAGE = {
  default: {
    provider: 'http_v1',
    url: 'https://standalone.storage.bwave.io/v1',
    version: '1',
  },
};

const WAVE: Section = {
  database: leaf(
    'Directory of the WAVE state store.',
    '/var/lib/wavemq/wave',
    check.path,
  ),
  defaultToUnrevoked: leaf(
    'Treat objects as not revoked when storage cannot be reached (lets ' +
      'a site run with no Internet).',
    false,
    check.boolean,
  ),
  revocationCheckInterval: leaf(
    'Seconds a granted proof is trusted before storage is asked again ' +
      'whether anything on it was revoked; live subscriptions are ' +
      'checked again as often.',
    300,
    check.periodSeconds,
  ),
  storage: {
    ...leaf(
      'Storage providers by name; one must be named default. A ' +
        'storage table in the file replaces the built-in one.',
      DEFAULT_STORAGE,
      check.table,
    ),
    entries: { kind: 'map', section: STORAGE_ENTRY },
  },
  /**
   * `listenIp`, `httpListenIp`, `listenUnix`: WAVE daemon settings the
   * original read and never used in the router; accepted so existing
   * files load, and ignored.
   */
  listenIp: leaf('Ignored (WAVE daemon setting).', '', check.anyString),
  httpListenIp: leaf('Ignored (WAVE daemon setting).', '', check.anyString),
  listenUnix: leaf('Ignored (WAVE daemon setting).', '', check.anyString),
};

const QUEUE: Section = {
  queueDataStore: leaf(
    'Directory of the durable queue store.',
    '/var/lib/wavemq/queue',
    check.path,
  ),
  queueExpiry: leaf(
    'Seconds a subscription queue lives undrained.',
    86400,
    check.lifetimeSeconds,
  ),
  subscriptionQueueMaxLength: leaf(
    'Messages per subscription queue.',
    10000,
    check.positiveCount,
  ),
  subscriptionQueueMaxSize: leaf(
    'MiB per subscription queue.',
    100,
    check.sizeMiB,
  ),
  trunkingQueueMaxLength: leaf(
    'Messages per trunk queue.',
    100000,
    check.positiveCount,
  ),
  trunkingQueueMaxSize: leaf('MiB per trunk queue.', 1000, check.sizeMiB),
  flushInterval: leaf(
    'Seconds between queue housekeeping runs.',
    30,
    check.periodSeconds,
  ),
};

const ROUTING: Section = {
  PersistDataStore: leaf(
    'Directory of the persisted-message store.',
    '/var/lib/wavemq/persist',
    check.path,
  ),
  RouterEntityFile: leaf(
    'Router entity secret; created when missing.',
    '/etc/wavemq/router.ent',
    check.path,
  ),
  DesignatedNamespaceFiles: {
    ...leaf(
      'Route proofs of the namespaces this router is designated ' +
        'router for.',
      [],
      check.list,
    ),
    each: check.path,
  },
  Router: {
    ...leaf(
      'Designated routers to trunk to, one per namespace.',
      [],
      check.list,
    ),
    entries: { kind: 'list', section: ROUTER_ENTRY },
  },
};

/** Environment variable that overrides `MetricsConfig.listenAddr`. */
export const METRICS_ENV = 'METRICS_ADDRESS';

/**
 * Every section and key of the config file, by canonical spelling; the
 * file may spell them in any case.
 */
export const CONFIG_SCHEMA: Record<string, Section> = {
  WaveConfig: WAVE,
  QueueConfig: QUEUE,
  LocalConfig: {
    listenAddr: leaf(
      'Where agents connect (host:port).',
      '127.0.0.1:4516',
      check.hostPort,
    ),
  },
  PeerConfig: {
    listenAddr: leaf(
      'Where peer routers connect (host:port).',
      '127.0.0.1:4515',
      check.hostPort,
    ),
    // Cellular NAT mappings often die after ~30 s idle: a ping every 10 s
    // keeps them. A peer silent for 45 s (many lost pings at 2 s RTT) is
    // taken for dead and the link is made again.
    keepAliveInterval: leaf(
      'Seconds between keep-alive pings on router links.',
      10,
      check.periodSeconds,
    ),
    idleTimeout: leaf(
      'Seconds of silence after which a router link is declared dead.',
      45,
      check.periodSeconds,
    ),
  },
  RoutingConfig: ROUTING,
  MetricsConfig: {
    listenAddr: {
      ...leaf(
        'Prometheus endpoint (host:port); "" disables it.',
        '127.0.0.1:6060',
        check.hostPortOrOff,
      ),
      env: METRICS_ENV,
    },
  },
};
