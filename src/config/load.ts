import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type { NamespaceId } from '../common/index.ts';
import { mibToBytes, secondsToMs } from './checks.ts';
import { ConfigError } from './errors.ts';
import { parseHostPort } from './host-port.ts';
import { canonicalTables } from './keys.ts';
import { canonicalNamespace } from './namespace.ts';
import { throwIfProblems, type Problem } from './problems.ts';
import { CONFIG_SCHEMA } from './schema.ts';
import type { RouterConfig, StorageProviderConfig } from './types.ts';
import { loadValues, type Env } from './values.ts';

/** Options of {@link parseConfig} and {@link loadConfigFile}. */
export interface ParseConfigOptions {
  /** Environment for overrides (`METRICS_ADDRESS`); default process.env. */
  env?: Env;
}

/**
 * Reads and validates a router config file (TOML).
 * @throws ConfigError naming the file when it is missing or unreadable,
 *   and otherwise as {@link parseConfig}.
 */
export function loadConfigFile(
  path: string,
  options: ParseConfigOptions = {},
): RouterConfig {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    const why =
      code === 'ENOENT'
        ? 'config file not found'
        : `cannot read config file (${code})`;
    throw new ConfigError(
      `${file}: ${why}`,
      { file, key: undefined },
      { cause: err },
    );
  }
  return parseConfig(text, file, options);
}

/**
 * Parses and validates config text. Section and key names match
 * case-insensitively; every key has a default (see schema.ts); seconds
 * become milliseconds and MiB bytes; relative paths are taken from the
 * directory of `fileName`. `METRICS_ADDRESS` in the environment overrides
 * `MetricsConfig.listenAddr`, and an empty value disables metrics.
 * Keys the original read but never used (`WaveConfig.listenIp`,
 * `httpListenIp`, `listenUnix`; `v1key`, `v1auditors` of a storage
 * provider) are accepted and ignored.
 * @throws ConfigError naming the file, every bad key and what it expects:
 *   for text that is not TOML (with line and column), unknown keys,
 *   ill-typed or out-of-range values, template placeholders, a storage
 *   table without `default`, and two designated routers for a namespace.
 */
export function parseConfig(
  text: string,
  fileName: string,
  options: ParseConfigOptions = {},
): RouterConfig {
  const file = resolve(fileName);
  return buildConfig(parseToml(text, file), {
    file,
    baseDir: dirname(file),
    env: options.env ?? process.env,
  });
}

/**
 * The built-in configuration of a quick-start site router: every path
 * under `dataDir` (wave/, queue/, persist/, router.ent), agents on
 * 127.0.0.1:4516, peers on 127.0.0.1:4515, no designated routers,
 * metrics on 127.0.0.1:6060, `defaultToUnrevoked` on so the site works
 * offline. Reads no environment.
 */
export function defaultConfig(dataDir: string): RouterConfig {
  const dir = resolve(dataDir);
  const doc = {
    WaveConfig: { database: join(dir, 'wave'), defaultToUnrevoked: true },
    QueueConfig: { queueDataStore: join(dir, 'queue') },
    RoutingConfig: {
      PersistDataStore: join(dir, 'persist'),
      RouterEntityFile: join(dir, 'router.ent'),
    },
  };
  return buildConfig(doc, { file: undefined, baseDir: dir, env: {} });
}

interface BuildContext {
  file: string | undefined;
  baseDir: string;
  env: Env;
}

function parseToml(text: string, file: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const reason = err.message
      .split('\n')[0]
      ?.replace(/^Invalid TOML document: /, '');
    const where = `${file}:${err.line}:${err.column}`;
    throw new ConfigError(
      `${where}: not valid TOML: ${reason}\n${err.codeblock}`,
      { file, key: undefined, line: err.line, column: err.column },
      { cause: err },
    );
  }
}

function buildConfig(
  doc: Record<string, unknown>,
  ctx: BuildContext,
): RouterConfig {
  const problems: Problem[] = [];
  const tables = canonicalTables(doc, CONFIG_SCHEMA, problems);
  throwIfProblems(problems, ctx.file);
  const values = loadValues(tables, ctx.env, problems);
  throwIfProblems(problems, ctx.file);
  // Every value has passed its check, so the shapes below hold.
  const config = toRouterConfig(values as unknown as Values, ctx);
  problems.push(...crossKeyProblems(config));
  throwIfProblems(problems, ctx.file);
  return config;
}

interface Values {
  WaveConfig: {
    database: string;
    defaultToUnrevoked: boolean;
    revocationCheckInterval: number;
    storage: Record<string, StorageProviderConfig & Record<string, unknown>>;
  };
  QueueConfig: Record<
    | 'queueDataStore'
    | 'queueExpiry'
    | 'subscriptionQueueMaxLength'
    | 'subscriptionQueueMaxSize'
    | 'trunkingQueueMaxLength'
    | 'trunkingQueueMaxSize'
    | 'flushInterval',
    number
  > & { queueDataStore: string };
  LocalConfig: { listenAddr: string };
  PeerConfig: {
    listenAddr: string;
    keepAliveInterval: number;
    idleTimeout: number;
  };
  RoutingConfig: {
    PersistDataStore: string;
    RouterEntityFile: string;
    DesignatedNamespaceFiles: string[];
    Router: { Namespace: string; Address: string }[];
  };
  MetricsConfig: { listenAddr: string };
}

function toRouterConfig(v: Values, ctx: BuildContext): RouterConfig {
  const abs = (p: string): string => resolve(ctx.baseDir, p);
  const q = v.QueueConfig;
  const r = v.RoutingConfig;
  const metrics = v.MetricsConfig.listenAddr;
  return {
    file: ctx.file,
    wave: {
      databasePath: abs(v.WaveConfig.database),
      defaultToUnrevoked: v.WaveConfig.defaultToUnrevoked,
      revocationRecheckMs: secondsToMs(v.WaveConfig.revocationCheckInterval),
      storage: storageProviders(v.WaveConfig.storage),
    },
    queue: {
      dataStorePath: abs(q.queueDataStore),
      queueExpiryMs: secondsToMs(q.queueExpiry),
      subscriptionQueueMaxLength: q.subscriptionQueueMaxLength,
      subscriptionQueueMaxBytes: mibToBytes(q.subscriptionQueueMaxSize),
      trunkingQueueMaxLength: q.trunkingQueueMaxLength,
      trunkingQueueMaxBytes: mibToBytes(q.trunkingQueueMaxSize),
      flushIntervalMs: secondsToMs(q.flushInterval),
    },
    local: { listenAddr: parseHostPort(v.LocalConfig.listenAddr) },
    peer: {
      listenAddr: parseHostPort(v.PeerConfig.listenAddr),
      keepAliveMs: secondsToMs(v.PeerConfig.keepAliveInterval),
      idleTimeoutMs: secondsToMs(v.PeerConfig.idleTimeout),
    },
    routing: {
      persistDataStorePath: abs(r.PersistDataStore),
      routerEntityFile: abs(r.RouterEntityFile),
      designatedNamespaceFiles: r.DesignatedNamespaceFiles.map(abs),
      routers: r.Router.map((e) => ({
        namespace: canonicalNamespace(e.Namespace) as NamespaceId,
        address: parseHostPort(e.Address),
      })),
    },
    metrics: {
      listenAddr: metrics === '' ? undefined : parseHostPort(metrics),
    },
  };
}

// Keeps the keys the router uses; `v1key` and `v1auditors` are dropped.
function storageProviders(
  storage: Values['WaveConfig']['storage'],
): Record<string, StorageProviderConfig> {
  const out: Record<string, StorageProviderConfig> = {};
  for (const [name, p] of Object.entries(storage)) {
    out[name] = { provider: p.provider, url: p.url, version: p.version };
  }
  return out;
}

function crossKeyProblems(config: RouterConfig): Problem[] {
  const problems: Problem[] = [];
  if (!Object.hasOwn(config.wave.storage, 'default')) {
    problems.push({
      key: 'WaveConfig.storage',
      message:
        'a provider named "default" is required ([WaveConfig.storage.default])',
    });
  }
  if (config.peer.keepAliveMs >= config.peer.idleTimeoutMs) {
    problems.push({
      key: 'PeerConfig.keepAliveInterval',
      message: 'must be shorter than PeerConfig.idleTimeout',
    });
  }
  const first = new Map<string, number>();
  config.routing.routers.forEach(({ namespace }, i) => {
    const j = first.get(namespace);
    if (j === undefined) first.set(namespace, i);
    else {
      problems.push({
        key: `RoutingConfig.Router[${i}].Namespace`,
        message:
          `same namespace as RoutingConfig.Router[${j}]; ` +
          'one designated router per namespace',
      });
    }
  });
  return problems;
}
