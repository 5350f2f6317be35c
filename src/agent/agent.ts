/**
 * The client SDK. An agent holds its own entity and proofs, signs what it
 * sends, and talks to its local router over one connection at a time: a
 * control stream for publish, query and status, and one stream per
 * subscription. The router never sees the agent's secret key.
 *
 * Publishes made in the same tick travel in one frame under one Merkle
 * batch signature; each resolves when the router has durably appended it.
 *
 * Reconnecting (on by default): when the connection drops (router
 * restarted or killed, network outage), the agent connects again with
 * jittered exponential backoff, for as long as it takes, until close()
 * or its signal aborts while reconnecting. Meanwhile nothing rejects:
 * publishes not yet acknowledged are sent again on the new connection,
 * unchanged and in order (the router drops exact resends), new publishes
 * wait behind them (up to MAX_WAITING_PUBLISHES), query and status wait,
 * and open subscriptions subscribe again by their id and go on without
 * repeating a message. If the router that answers has another id, the
 * agent closes with RouterChangedError. `state` and onStateChange() tell
 * the caller what is happening. With `reconnect: false`, a dropped
 * connection fails pending calls with AgentDisconnectedError and the
 * caller makes a new Agent (a durable subscription resumes by its id).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../common/logger.ts';
import { silentLogger } from '../common/logger.ts';
import {
  Entity,
  Proof,
  requestDigest,
  validateUri,
  type Permission,
} from '../wave/index.ts';
import {
  LOOPBACK_UDP_PAYLOAD_BYTES,
  createQuicTransport,
  isLoopbackHost,
  type Transport,
} from '../transport/index.ts';
import type { PayloadObject, WireRequest } from '../wire/index.ts';
import { MissingProofError, isLinkFailure } from './errors.ts';
import {
  RouterLink,
  greet,
  type AgentState,
  type RouterConnection,
} from './link.ts';
import { decodeStored, type ReceivedMessage } from './message.ts';
import { resolveReconnect, type ReconnectOptions } from './options.ts';
import { Subscription } from './subscription.ts';
import { openSubscription } from './subscribe.ts';
import { Publisher, type PublishInput } from './publisher.ts';

/**
 * Keep-alive of the agent link, ms. Agents talk to a router on their own
 * host or LAN, so a silent peer can be declared dead quickly.
 */
export const AGENT_KEEPALIVE_MS = 1000;
/** A router silent for this long is taken for dead, ms. */
export const AGENT_IDLE_MS = 5000;

/** Options of {@link Agent.connect}. */
export interface AgentOptions {
  /** Router agent address; default 127.0.0.1:4516. */
  router?: { host: string; port: number };
  entity: Entity;
  namespace: string;
  /** Proof used for every permission unless `proofs` names another. */
  proof?: Proof;
  proofs?: Partial<Record<Permission, Proof>>;
  transport?: Transport;
  /** Pin the router's entity key (raw Ed25519), refusing any other. */
  routerKey?: Uint8Array;
  /**
   * Reconnect by itself when the connection drops; default true, with
   * delays from 100 ms doubling up to 5 s (jittered). False: pending
   * calls reject with AgentDisconnectedError instead.
   */
  reconnect?: boolean | ReconnectOptions;
  /** Where reconnects are logged (info); default silent. */
  logger?: Logger;
  /**
   * Aborts the first connect. Afterwards it is looked at only while
   * reconnecting: aborted then (or already), the agent closes as by
   * close(). A timeout signal meant for the first connect therefore also
   * ends reconnecting once it has fired.
   */
  signal?: AbortSignal;
}

/** Options of {@link Agent.subscribe}. */
export interface SubscribeOptions {
  /** Stable identifier: reconnecting with it resumes the queue. */
  id?: string;
  /** How long the queue outlives this subscriber when it leaves, ms. */
  expiryMs?: number;
  /** Ack each message as it is yielded; default false. */
  autoAck?: boolean;
  proof?: Proof;
}

/** A connection to a router on behalf of one entity. */
export class Agent {
  readonly routerId: string;
  readonly routerEntity: string;
  /** One publisher session for the life of this object. */
  readonly session: string = randomUUID();
  private readonly publisher: Publisher;
  private readonly link: RouterLink;
  private readonly holding: boolean;

  private constructor(
    private readonly o: AgentOptions,
    transport: Transport,
    first: RouterConnection,
  ) {
    const reconnect = resolveReconnect(o.reconnect);
    this.holding = reconnect !== false;
    this.routerId = first.welcome.router;
    this.routerEntity = first.welcome.entity;
    this.publisher = new Publisher({
      entity: o.entity,
      namespace: o.namespace,
      routerId: this.routerId,
      session: this.session,
      proofFor: (p) => this.proofFor(p),
      hold: this.holding,
    });
    const router = o.router ?? DEFAULT_ROUTER;
    this.link = new RouterLink(
      {
        transport,
        router,
        ...(o.routerKey ? { routerKey: o.routerKey } : {}),
        reconnect,
        logger: (o.logger ?? silentLogger()).child({
          component: 'agent',
          router: `${router.host}:${router.port}`,
        }),
        ...(o.signal ? { signal: o.signal } : {}),
        onConnected: (c) => this.publisher.connected(c.control),
        onLost: () => this.publisher.disconnected(),
        onClosed: (reason) => {
          if (this.holding) this.publisher.fail(reason);
        },
      },
      first,
    );
  }

  /**
   * Connects and greets the router. The first connect is not retried: it
   * throws the transport's error (ConnectError, PeerKeyMismatchError) or
   * the signal's reason; AgentOptionError for bad reconnect timing.
   */
  static async connect(o: AgentOptions): Promise<Agent> {
    resolveReconnect(o.reconnect);
    const router = o.router ?? DEFAULT_ROUTER;
    const transport =
      o.transport ??
      createQuicTransport({
        logger: o.logger ?? silentLogger(),
        keepAliveMs: AGENT_KEEPALIVE_MS,
        idleTimeoutMs: AGENT_IDLE_MS,
        ...(isLoopbackHost(router.host)
          ? { maxUdpPayloadBytes: LOOPBACK_UDP_PAYLOAD_BYTES }
          : {}),
      });
    const first = await greet(
      { transport, router, ...(o.routerKey ? { routerKey: o.routerKey } : {}) },
      1,
      o.signal ? { signal: o.signal } : {},
    );
    return new Agent(o, transport, first);
  }

  /** 'connected', 'reconnecting' or 'closed'. */
  get state(): AgentState {
    return this.link.state;
  }

  /** Largest message the router takes (from its latest welcome), bytes. */
  get maxMessageBytes(): number {
    return this.link.welcome.maxMessageBytes;
  }

  /**
   * Calls `listener` with each new state (not the current one); returns
   * a function that removes it. A listener that throws is logged.
   */
  onStateChange(listener: (state: AgentState) => void): () => void {
    return this.link.onStateChange(listener);
  }

  /** The proof this agent uses for `permission`. */
  proofFor(permission: Permission): Proof {
    const p = this.o.proofs?.[permission] ?? this.o.proof;
    if (!p) {
      throw new MissingProofError(
        `no proof given for ${permission} in namespace ${this.o.namespace}`,
        { permission },
      );
    }
    return p;
  }

  /**
   * Publishes one message; resolves once the router has stored it
   * durably. `content` is text, bytes, or a list of payload objects.
   * While reconnecting it waits; throws PublishBacklogFullError when
   * MAX_WAITING_PUBLISHES already wait, AgentClosedError (or
   * RouterChangedError) when the agent closes first, RouterRefusedError
   * when the router refuses it.
   */
  async publish(
    uri: string,
    content: string | Uint8Array | PayloadObject[],
    o: { persist?: boolean; schema?: string; proof?: Proof } = {},
  ): Promise<void> {
    validateUri(uri);
    const input: PublishInput = {
      uri,
      payloads: toPayloads(content, o.schema),
      persist: o.persist === true,
    };
    if (o.proof) input.proof = o.proof;
    await this.publisher.publish(input);
  }

  /**
   * Subscribes to `pattern` (wildcards `+` and `*` allowed). While
   * reconnecting it waits for the connection; the subscription then
   * follows the agent's reconnects (see {@link Subscription}).
   * @throws RouterRefusedError when refused; AgentClosedError when the
   *   agent closes first.
   */
  async subscribe(
    pattern: string,
    o: SubscribeOptions = {},
  ): Promise<Subscription> {
    const proof = o.proof ?? this.proofFor('subscribe');
    const req = this.request(
      'subscribe',
      pattern,
      proof,
      o.id ?? randomUUID(),
      o.expiryMs ?? 0,
    );
    const open = (after: number, signal?: AbortSignal) =>
      openSubscription(this.link, req, this.holding, { after, signal });
    const first = await open(0);
    return new Subscription(
      first,
      o.autoAck === true,
      this.holding ? open : undefined,
    );
  }

  /**
   * Persisted messages matching `pattern`, one per URI. `stale` is true
   * when the router answered from its own copy because its designated
   * router could not be reached. While reconnecting it waits (until
   * `signal` aborts); a query in flight when the connection drops is
   * asked again on the next one.
   * @throws AgentClosedError when the agent closes first.
   */
  async query(
    pattern: string,
    o: { proof?: Proof; signal?: AbortSignal } = {},
  ): Promise<ReceivedMessage[] & { stale: boolean }> {
    const proof = o.proof ?? this.proofFor('query');
    const req = this.request('query', pattern, proof, '', 0);
    const res = await this.ask({ t: 'query', req }, o.signal);
    const msgs = (res['msgs'] as Uint8Array[]).map((m) =>
      decodeStored(m, 0, 0),
    );
    return Object.assign(msgs, { stale: res['stale'] === true });
  }

  /** The router's status figures; waits while reconnecting, as query(). */
  async status(
    o: { signal?: AbortSignal } = {},
  ): Promise<Record<string, unknown>> {
    const res = await this.ask({ t: 'status' }, o.signal);
    return res['status'] as Record<string, unknown>;
  }

  /**
   * Closes the connection and stops reconnecting. Pending calls reject:
   * with AgentClosedError, or, with reconnecting off, with
   * AgentDisconnectedError as the connection ends.
   */
  async close(): Promise<void> {
    await this.link.close();
  }

  /** A control request, asked again on the next connection if one drops. */
  private async ask(
    frame: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<Record<string, unknown>> {
    let after = 0;
    for (;;) {
      const c = await this.link.ready({ after, ...(signal ? { signal } : {}) });
      try {
        return await c.control.request(frame);
      } catch (err) {
        if (!this.holding || !isLinkFailure(err)) throw err;
        after = c.epoch;
      }
    }
  }

  private request(
    kind: 'subscribe' | 'query',
    pattern: string,
    proof: Proof,
    id: string,
    expiryMs: number,
  ): WireRequest {
    const fields = {
      kind,
      ns: this.o.namespace,
      pattern,
      requester: this.o.entity.hash,
      id,
      expiryMs,
      ts: Date.now(),
      proofHash: proof.hash,
    };
    return {
      ...fields,
      sig: this.o.entity.sign(requestDigest(fields)),
      proof: proof.bytes,
      entity: this.o.entity.publicEntity.bytes,
    };
  }
}

const DEFAULT_ROUTER = { host: '127.0.0.1', port: 4516 };

function toPayloads(
  content: string | Uint8Array | PayloadObject[],
  schema = 'text',
): PayloadObject[] {
  if (Array.isArray(content)) return content;
  const bytes =
    typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return [{ schema, content: bytes }];
}
