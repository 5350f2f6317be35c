/**
 * A wavemq router: serves agents on the local port, delivers between
 * them through durable per-subscription queues, keeps the last persisted
 * message per URI, and fills one trunk queue per namespace that has a
 * designated router, while its uplink keeps trying to connect.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Registry } from 'prom-client';
import type { Logger } from '../common/logger.ts';
import { type Clock, systemClock } from '../common/clock.ts';
import { WavemqError, errorMessage } from '../common/errors.ts';
import { writeSecretFile } from '../common/secret-file.ts';
import type { QueueId, RouterId } from '../common/ids.ts';
import type { RouterConfig } from '../config/index.ts';
import {
  QueueManager,
  openDataStore,
  type DataStore,
  type StoreMark,
} from '../queue/index.ts';
import {
  DEFAULT_UNREVOKED_TTL_MS,
  Entity,
  HttpStorageProvider,
  StorageSet,
  Verifier,
  createWaveMetrics,
  type RevocationChecker,
  type WaveMetrics,
} from '../wave/index.ts';
import {
  createTlsIdentity,
  loadOrCreateTicketKey,
  type Listener,
  type TlsIdentity,
  type Transport,
} from '../transport/index.ts';
import type { WireMessage, WireRequest } from '../wire/index.ts';
import { loadRouteProofs, type RouteProofs } from './designated.ts';
import { serveSite } from './peer-session.ts';
import { Authorizer } from './authorizer.ts';
import { downlinkRecipient, trunkQueueId } from './queue-ids.ts';
import { serveAgent } from './agent-session.ts';
import { createRouterMetrics, type RouterMetrics } from './metrics.ts';
import { PersistStore } from './persist-store.ts';
import { PublisherSessions, sessionRetentionMs } from './session-marks.ts';
import { Subscriptions } from './subscriptions.ts';
import { Uplink } from './uplink.ts';
import { routerStatus, type RouterStatus } from './status.ts';

/** Largest stored message the router accepts by default: 1 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Longest wait for a query forwarded to the designated router, ms. */
const QUERY_TIMEOUT_MS = 30_000;
/**
 * The designated router's session ticket key, beside the queue store, so
 * sites resume their TLS sessions across its restarts.
 */
const PEER_TICKET_KEY_FILE = 'peer-tickets.key';
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
  /**
   * Where revocation is looked up; default the config's
   * `[WaveConfig.storage.*]` providers over HTTP.
   */
  revocation?: RevocationChecker;
}

/** A running router; build one with {@link Router.start}. */
export class Router {
  readonly metrics: RouterMetrics;
  readonly waveMetrics: WaveMetrics;
  readonly registry: Registry;
  readonly clock: Clock;
  /** The process logger; components add their own `component` field. */
  readonly logger: Logger;
  private readonly log: Logger;
  readonly maxMessageBytes: number;
  readonly startedAtMs: number;
  id = '' as RouterId;
  entity!: Entity;
  authorizer!: Authorizer;
  verifier!: Verifier;
  identity!: TlsIdentity;
  /** Route proofs by namespace when this router is a designated router. */
  routeProofs: RouteProofs = new Map();
  subscriptions!: Subscriptions;
  queues!: QueueManager;
  readonly uplinks = new Map<string, Uplink>();
  private persist!: PersistStore;
  private stores: DataStore[] = [];
  private listener: Listener | undefined;
  private peerListener: Listener | undefined;
  /** Sequence numbers routed per publisher session (drops resends). */
  publisherSessions!: PublisherSessions;

  private constructor(readonly o: RouterOptions) {
    this.clock = o.clock ?? systemClock;
    this.logger = o.logger;
    this.log = o.logger.child({ component: 'router' });
    this.registry = o.registry ?? new Registry();
    this.metrics = createRouterMetrics(this.registry);
    this.waveMetrics = createWaveMetrics(this.registry);
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
      this.log,
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
    this.publisherSessions = new PublisherSessions({
      queues: this.queues,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      retentionMs: sessionRetentionMs(cfg.queue.queueExpiryMs),
    });
    this.subscriptions = new Subscriptions(
      this.queues,
      cfg,
      this.metrics,
      this.logger,
    );
    const recovered = this.subscriptions.recover();
    await this.openTrunks();
    this.verifier = new Verifier({
      clock: this.clock,
      defaultToUnrevoked: cfg.wave.defaultToUnrevoked,
      revocation: this.o.revocation ?? this.storage(cfg),
      revocationRecheckMs: cfg.wave.revocationRecheckMs,
      metrics: this.waveMetrics,
    });
    this.authorizer = new Authorizer({
      store: this.persist,
      verifier: this.verifier,
    });
    this.routeProofs = await loadRouteProofs(
      cfg.routing.designatedNamespaceFiles,
      this.entity.hash,
      this.verifier,
    );
    this.queues.start();
    this.publisherSessions.start();
    this.identity = await createTlsIdentity(this.entity.signingSeed);
    await this.listen();
    await this.listenPeers();
    this.startUplinks();
    this.log.info(
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
    this.listener = await this.o.transport.listen({
      ...this.o.config.local.listenAddr,
      identity: this.identity,
      onConnection: (conn) => serveAgent(this, conn),
    });
  }

  /** The peer port, opened only when this router is designated. */
  private async listenPeers(): Promise<void> {
    if (this.routeProofs.size === 0) return;
    const ticketKey = await this.peerTicketKey();
    this.peerListener = await (this.o.peerTransport ?? this.o.transport).listen(
      {
        ...this.o.config.peer.listenAddr,
        identity: this.identity,
        ...(ticketKey && { ticketKey }),
        // Every site must present its entity's certificate; the handshake
        // then checks the entity it claims against that key.
        verifyClient: () => true,
        onConnection: (conn) => serveSite(this, conn, this.routeProofs),
      },
    );
    this.log.info(
      {
        listen: { host: this.peerListener.host, port: this.peerListener.port },
        namespaces: [...this.routeProofs.keys()],
      },
      'designated router listening',
    );
  }

  /**
   * The peer listener's ticket key from the state directory (made, or
   * replaced after 7 days, as needed). An unusable file is logged and the
   * router serves without resumption: it only saves handshake work.
   */
  private async peerTicketKey(): Promise<Uint8Array | undefined> {
    const dir = dirname(this.o.config.queue.dataStorePath);
    try {
      const file = await loadOrCreateTicketKey(
        join(dir, PEER_TICKET_KEY_FILE),
        {
          clock: this.clock,
        },
      );
      if (file.origin !== 'read') {
        this.log.info({ origin: file.origin }, 'peer session ticket key made');
      }
      return file.key;
    } catch (err) {
      const code = err instanceof WavemqError ? err.code : undefined;
      this.log.error(
        { err: errorMessage(err), code },
        'peer session ticket key unusable; sites will not resume sessions',
      );
      return undefined;
    }
  }

  /** The peer address (the real port when 0 was asked), if listening. */
  get peerAddress(): { host: string; port: number } | undefined {
    const l = this.peerListener;
    return l ? { host: l.host, port: l.port } : undefined;
  }

  private startUplinks(): void {
    for (const { namespace, address } of this.o.config.routing.routers) {
      const uplink = new Uplink({
        ns: namespace,
        address,
        transport: this.o.peerTransport ?? this.o.transport,
        identity: this.identity,
        router: this,
        logger: this.logger,
      });
      this.uplinks.set(namespace, uplink);
      uplink.start();
    }
  }

  /**
   * Appends admitted messages to every matching queue in one durable
   * write, with `marks` (trunk high-water marks) in the same batch;
   * resolves when durable. Loop prevention: a message never goes to the
   * downlink of the router it came from, and only messages that
   * originated here enter a trunk. Messages a publisher session already
   * sent are skipped, and each session's record is written in the same
   * batch (one mark per session), so the skipping survives a restart;
   * when the append fails, the messages are forgotten again, so a resend
   * is taken. Calls reach the queues in call order: at once when every
   * session is in memory, else once the records were read back.
   */
  route(
    admitted: { m: WireMessage; bytes: Uint8Array }[],
    o: { from: 'local' | 'peer'; marks?: StoreMark[] },
  ): Promise<void> {
    const sessions = admitted.map((a) => a.m.session);
    return this.publisherSessions.inTurn(sessions, () =>
      this.routeHeld(admitted, o),
    );
  }

  /** {@link route} once every session of `admitted` is in memory. */
  private routeHeld(
    admitted: { m: WireMessage; bytes: Uint8Array }[],
    o: { from: 'local' | 'peer'; marks?: StoreMark[] },
  ): Promise<void> {
    const entries: { queue: QueueId; bytes: Uint8Array }[] = [];
    const persisted: { ns: string; uri: string; bytes: Uint8Array }[] = [];
    const taken: WireMessage[] = [];
    for (const a of admitted) {
      if (!this.publisherSessions.firstTime(a.m.session, a.m.seq)) continue;
      taken.push(a.m);
      for (const queue of this.subscriptions.index.match(a.m.ns, a.m.uri)) {
        if (downlinkRecipient(queue) === a.m.origin) continue;
        entries.push({ queue, bytes: a.bytes });
      }
      if (this.uplinks.has(a.m.ns) && a.m.origin === this.id) {
        entries.push({ queue: trunkQueueId(a.m.ns), bytes: a.bytes });
      }
      if (a.m.persist) {
        persisted.push({ ns: a.m.ns, uri: a.m.uri, bytes: a.bytes });
      }
    }
    this.metrics.published.inc({ origin: o.from }, admitted.length);
    const write = this.publisherSessions.marksFor(taken);
    const appended = this.queues
      .appendMany(entries, { marks: [...(o.marks ?? []), ...write.marks] })
      .then(
        () => write.settled(),
        (err: unknown) => {
          // Not stored, and neither are the marks: their senders send
          // them again, and then they must not be taken for duplicates.
          write.settled(err);
          throw err;
        },
      );
    // A failed persisted write alone releases nothing: the messages are
    // in their queues and recorded, so a resend is still a duplicate.
    return Promise.all([appended, this.keepPersisted(persisted)]).then(
      () => undefined,
    );
  }

  /**
   * Answers an admitted query: from the designated router when this site
   * has an uplink for the namespace and it is up, else from what this
   * router has kept, saying the answer may be stale when a designated
   * router exists but cannot be reached.
   */
  async query(
    req: WireRequest,
  ): Promise<{ msgs: Uint8Array[]; stale: boolean }> {
    const uplink = this.uplinks.get(req.ns);
    const link = uplink?.link;
    if (link) {
      try {
        return { msgs: await link.query(req, QUERY_TIMEOUT_MS), stale: false };
      } catch (err) {
        this.log.info({ err: errorMessage(err) }, 'query upstream failed');
      }
    }
    const msgs = await this.queryLocal(req.ns, req.pattern);
    return { msgs, stale: uplink !== undefined };
  }

  /** Keeps each message as the last persisted one for its URI. */
  async keepPersisted(
    messages: { ns: string; uri: string; bytes: Uint8Array }[],
  ): Promise<void> {
    await this.persist.putPersisted(messages);
    this.metrics.persisted.inc(messages.length);
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

  /**
   * Revocation lookups over the config's storage providers. A provider
   * reuses a "not revoked" answer no longer than the recheck interval, so
   * a revocation takes effect within two intervals at most.
   */
  private storage(cfg: RouterConfig): StorageSet {
    const logger = this.logger.child({ component: 'storage' });
    const unrevokedTtlMs = Math.min(
      DEFAULT_UNREVOKED_TTL_MS,
      cfg.wave.revocationRecheckMs,
    );
    return new StorageSet(
      Object.entries(cfg.wave.storage).map(
        ([name, p]) =>
          new HttpStorageProvider({
            name,
            url: p.url,
            unrevokedTtlMs,
            clock: this.clock,
            logger,
            metrics: this.waveMetrics,
          }),
      ),
    );
  }

  /** Stops serving and closes storage; idempotent. */
  async stop(): Promise<void> {
    await this.listener?.stop();
    this.listener = undefined;
    await this.peerListener?.stop();
    this.peerListener = undefined;
    await Promise.all([...this.uplinks.values()].map((u) => u.stop()));
    await this.publisherSessions?.stop();
    await this.queues?.close();
    for (const s of this.stores.splice(0)) await s.close();
    this.log.info({ router: this.id }, 'router stopped');
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
