/**
 * The client SDK. An agent holds its own entity and proofs, signs what it
 * sends, and talks to its local router over one connection: a control
 * stream for publish, query and status, and one stream per subscription.
 * The router never sees the agent's secret key.
 *
 * Publishes made in the same tick travel in one frame under one Merkle
 * batch signature; each resolves when the router has durably appended it.
 *
 * Not built yet: reconnecting by itself. When the connection drops,
 * pending calls reject with AgentDisconnectedError and the caller makes a
 * new Agent (a durable subscription resumes by its identifier).
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
  type Connection,
  type Transport,
} from '../transport/index.ts';
import {
  PROTOCOL_VERSION,
  type PayloadObject,
  type WireRequest,
} from '../wire/index.ts';
import { ControlChannel, refusal } from './control.ts';
import { MissingProofError } from './errors.ts';
import { decodeStored, type ReceivedMessage } from './message.ts';
import { Subscription } from './subscription.ts';
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
  logger?: Logger;
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
  readonly maxMessageBytes: number;
  private readonly publisher: Publisher;

  private constructor(
    private readonly o: AgentOptions,
    private readonly conn: Connection,
    private readonly control: ControlChannel,
    welcome: Record<string, unknown>,
  ) {
    this.routerId = String(welcome['router']);
    this.routerEntity = String(welcome['entity']);
    this.maxMessageBytes = Number(welcome['maxMessageBytes']);
    this.publisher = new Publisher({
      entity: o.entity,
      namespace: o.namespace,
      routerId: this.routerId,
      session: randomUUID(),
      control,
      proofFor: (p) => this.proofFor(p),
    });
  }

  /** Connects and greets the router. */
  static async connect(o: AgentOptions): Promise<Agent> {
    const router = o.router ?? { host: '127.0.0.1', port: 4516 };
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
    const conn = await transport.connect({
      ...router,
      ...(o.routerKey ? { expectedServerKey: o.routerKey } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    try {
      const control = new ControlChannel(await conn.openStream());
      const welcome = control.nextUnsolicited();
      await control.send({ t: 'hello', v: PROTOCOL_VERSION });
      return new Agent(o, conn, control, await welcome);
    } catch (err) {
      await conn.close('greeting failed');
      throw err;
    }
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

  /** Subscribes to `pattern` (wildcards `+` and `*` allowed). */
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
    const stream = await this.conn.openStream();
    const frames = stream.frames()[Symbol.asyncIterator]();
    await stream.send({ t: 'sub', req });
    const first = await frames.next();
    const ok = (
      first.done ? { t: 'err', message: 'stream ended' } : first.value
    ) as Record<string, unknown>;
    if (ok['t'] !== 'subok') {
      await stream.close();
      throw refusal(ok);
    }
    return new Subscription(stream, frames, ok, o.autoAck === true);
  }

  /**
   * Persisted messages matching `pattern`, one per URI. `stale` is true
   * when the router answered from its own copy because its designated
   * router could not be reached.
   */
  async query(
    pattern: string,
    o: { proof?: Proof } = {},
  ): Promise<ReceivedMessage[] & { stale: boolean }> {
    const proof = o.proof ?? this.proofFor('query');
    const req = this.request('query', pattern, proof, '', 0);
    const res = await this.control.request({ t: 'query', req });
    const msgs = (res['msgs'] as Uint8Array[]).map((m) =>
      decodeStored(m, 0, 0),
    );
    return Object.assign(msgs, { stale: res['stale'] === true });
  }

  /** The router's status figures. */
  async status(): Promise<Record<string, unknown>> {
    const res = await this.control.request({ t: 'status' });
    return res['status'] as Record<string, unknown>;
  }

  /** Closes the connection; pending calls reject. */
  async close(): Promise<void> {
    await this.conn.close('agent closed');
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

function toPayloads(
  content: string | Uint8Array | PayloadObject[],
  schema = 'text',
): PayloadObject[] {
  if (Array.isArray(content)) return content;
  const bytes =
    typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return [{ schema, content: bytes }];
}
