/**
 * A wavemq router: serves agents on the local port, delivers between
 * them through durable per-subscription queues, keeps the last persisted
 * message per URI, and fills one trunk queue per namespace that has a
 * designated router, while its uplink keeps trying to connect.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import { type Clock, systemClock } from '../common/clock.ts';
import { WavemqError, errorMessage } from '../common/errors.ts';
import type { QueueId, RouterId } from '../common/ids.ts';
import { LruMap } from '../common/lru.ts';
import type { RouterConfig } from '../config/index.ts';
import { QueueManager, openDataStore, type DataStore } from '../queue/index.ts';
import { Entity, Verifier, writeSecretFile } from '../wave/index.ts';
import {
  createTlsIdentity,
  type Listener,
  type Transport,
} from '../transport/index.ts';
import type { WireMessage } from '../wire/index.ts';
import { Authorizer } from './authorizer.ts';
import { serveAgent } from './agent-session.ts';
import { createRouterMetrics, type RouterMetrics } from './metrics.ts';
import { PersistStore } from './persist-store.ts';
import { Subscriptions } from './subscriptions.ts';
import { Uplink } from './uplink.ts';
import { routerStatus, type RouterStatus } from './status.ts';

/** Largest stored message the router accepts by default: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Router entities are made valid for this long: ten years. */
const ROUTER_ENTITY_EXPIRY_MS = 10 * 365 * 24 * 3600 * 1000;

/** Options of {@link Router.start}. */
export interface RouterOptions {
  config: RouterConfig;
  /** Serves agents on the local port. */
  transport: Transport;
  /** Links to designated routers; default `transport`. */
  peerTransport?: Transport;
  logger: Logger;
  clock?: Clock;
  registry?: Registry;
  maxMessageBytes?: number;
}

/** A queue for namespace `ns`'s designated router. */
export function trunkQueueId(ns: string): QueueId {
  return `trunk/${ns}` as QueueId;
}

/** A running router; build one with {@link Router.start}. */
export class Router {
  readonly metrics: RouterMetrics;
  readonly registry: Registry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly maxMessageBytes: number;
  readonly startedAtMs: number;
  id = '' as RouterId;
  entity!: Entity;
  authorizer!: Authorizer;
  subscriptions!: Subscriptions;
  queues!: QueueManager;
  readonly uplinks = new Map<string, Uplink>();
  private persist!: PersistStore;
  private stores: DataStore[] = [];
  private listener: Listener | undefined;
  /** Highest sequence accepted per publisher session (drops resends). */
  private readonly sessions = new LruMap<string, number>(65_536);

  private constructor(readonly o: RouterOptions) {
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger.child({ component: 'router' });
    this.registry = o.registry ?? new Registry();
    this.metrics = createRouterMetrics(this.registry);
    this.maxMessageBytes = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.startedAtMs = this.clock.now();
  }

  /** Opens storage, recovers queues, and starts serving agents. */
  static async start(o: RouterOptions): Promise<Router> {
    const r = new Router(o);
    try {
      await r.open();
    } catch (err) {
      await r.stop();
      throw err;
    }
    return r;
  }

  get entityHash(): string {
    return this.entity.hash;
  }

  /** The address agents connect to (the real port when 0 was asked). */
  get localAddress(): { host: string; port: number } {
    const l = this.listener;
    if (!l) throw new Error('router is not listening');
    return { host: l.host, port: l.port };
  }

  private async open(): Promise<void> {
    const cfg = this.o.config;
    this.entity = await loadOrCreateEntity(
      cfg.routing.routerEntityFile,
      this.logger,
    );
    const queueStore = await openDataStore(cfg.queue.dataStorePath);
    this.stores.push(queueStore);
    const persistStore = await openDataStore(cfg.routing.persistDataStorePath);
    this.stores.push(persistStore);
    this.persist = new PersistStore(persistStore);
    this.id = await this.persist.routerId();
    this.queues = await QueueManager.open({
      store: queueStore,
      clock: this.clock,
      logger: this.logger,
      registry: this.registry,
      sweepIntervalMs: cfg.queue.flushIntervalMs,
    });
    this.subscriptions = new Subscriptions(
      this.queues,
      cfg,
      this.metrics,
      this.logger,
    );
    const recovered = this.subscriptions.recover();
    await this.openTrunks();
    this.authorizer = new Authorizer({
      store: this.persist,
      verifier: new Verifier({
        clock: this.clock,
        defaultToUnrevoked: cfg.wave.defaultToUnrevoked,
      }),
    });
    this.queues.start();
    await this.listen();
    this.startUplinks();
    this.logger.info(
      {
        router: this.id,
        entity: this.entity.hash,
        subscriptions: recovered,
        queues: this.queues.list().length,
        listen: this.localAddress,
      },
      'router started',
    );
  }

  private async openTrunks(): Promise<void> {
    const q = this.o.config.queue;
    for (const { namespace } of this.o.config.routing.routers) {
      await this.queues.ensureQueue(trunkQueueId(namespace), {
        kind: 'trunk',
        limits: {
          maxLength: q.trunkingQueueMaxLength,
          maxBytes: q.trunkingQueueMaxBytes,
          maxAgeMs: Number.POSITIVE_INFINITY,
        },
        idleExpiryMs: undefined,
        record: { ns: namespace },
      });
    }
  }

  private async listen(): Promise<void> {
    const identity = await createTlsIdentity(this.entity.signingSeed);
    this.listener = await this.o.transport.listen({
      ...this.o.config.local.listenAddr,
      identity,
      onConnection: (conn) => serveAgent(this, conn),
    });
  }

  private startUplinks(): void {
    for (const { namespace, address } of this.o.config.routing.routers) {
      const uplink = new Uplink({
        ns: namespace,
        address,
        transport: this.o.peerTransport ?? this.o.transport,
        logger: this.logger,
        metrics: this.metrics,
      });
      this.uplinks.set(namespace, uplink);
      uplink.start();
    }
  }

  /**
   * Appends admitted messages to every matching local queue and to the
   * trunk queue, in one durable write; resolves when durable. Messages a
   * publisher session already sent are skipped. The append is issued
   * before this returns, so calls reach the queues in call order.
   */
  publishLocal(
    admitted: { m: WireMessage; bytes: Uint8Array }[],
  ): Promise<void> {
    const entries: { queue: QueueId; bytes: Uint8Array }[] = [];
    const persisted: { m: WireMessage; bytes: Uint8Array }[] = [];
    for (const a of admitted) {
      if ((this.sessions.get(a.m.session) ?? -1) >= a.m.seq) continue;
      this.sessions.set(a.m.session, a.m.seq);
      for (const queue of this.subscriptions.index.match(a.m.ns, a.m.uri)) {
        entries.push({ queue, bytes: a.bytes });
      }
      if (this.uplinks.has(a.m.ns) && a.m.origin === this.id) {
        entries.push({ queue: trunkQueueId(a.m.ns), bytes: a.bytes });
      }
      if (a.m.persist) persisted.push(a);
    }
    this.metrics.published.inc({ origin: 'local' }, admitted.length);
    const appended =
      entries.length > 0
        ? this.queues.appendMany(entries)
        : Promise.resolve([]);
    return Promise.all([
      appended,
      ...persisted.map((a) =>
        this.persist.putPersisted(a.m.ns, a.m.uri, a.bytes),
      ),
    ]).then(() => {
      this.metrics.persisted.inc(persisted.length);
    });
  }

  /** Persisted messages in `ns` matching `pattern`, from this router. */
  async queryLocal(ns: string, pattern: string): Promise<Uint8Array[]> {
    const msgs = await this.persist.query(ns, pattern);
    this.metrics.queried.inc(msgs.length);
    return msgs;
  }

  /** Counts a refused publish, subscription or query, and logs it. */
  countRejection(err: unknown, log: Logger): void {
    const code = err instanceof WavemqError ? err.code : 'INTERNAL';
    this.metrics.rejected.inc({ code });
    log.warn({ code, err: errorMessage(err) }, 'request refused');
  }

  /** Figures shown by `wavemq status`. */
  status(): RouterStatus {
    return routerStatus(this);
  }

  /** Stops serving and closes storage; idempotent. */
  async stop(): Promise<void> {
    await this.listener?.stop();
    this.listener = undefined;
    await Promise.all([...this.uplinks.values()].map((u) => u.stop()));
    await this.queues?.close();
    for (const s of this.stores.splice(0)) await s.close();
    this.logger.info({ router: this.id }, 'router stopped');
  }
}

/** Loads the router's entity, creating it (mode 0600) on first start. */
async function loadOrCreateEntity(path: string, log: Logger): Promise<Entity> {
  try {
    return Entity.decodeSecret(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const entity = Entity.create({ expiryMs: ROUTER_ENTITY_EXPIRY_MS });
  await mkdir(dirname(path), { recursive: true });
  await writeSecretFile(path, entity.encodeSecret());
  log.info({ file: path, entity: entity.hash }, 'router entity created');
  return entity;
}
