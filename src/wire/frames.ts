/**
 * The frames of the agent protocol, and their validation. Every frame is a
 * CBOR map with a string field `t` naming its type. Validation turns an
 * untrusted decoded value into a typed frame or throws
 * {@link FrameFieldError} naming the first field that is wrong.
 *
 * Streams of an agent connection:
 * - control (opened first by the agent): hello/welcome, pub/puback, status,
 *   query; answered in order of arrival, matched by `id`;
 * - one stream per subscription: sub, then msgs/ack/close in both
 *   directions.
 */
import { bytes, fail, list, obj, optBytes, str, uint } from './fields.ts';

export { FrameFieldError } from './fields.ts';

/** Protocol version spoken by this build. */
export const PROTOCOL_VERSION = 1;

/** One payload object: a free-text schema and opaque bytes. */
export interface PayloadObject {
  schema: string;
  content: Uint8Array;
}

/** Merkle batch signature carried by each message (see wave/message.ts). */
export interface WireSignature {
  root: Uint8Array;
  signature: Uint8Array;
  index: number;
  path: Uint8Array[];
}

/**
 * A message as it travels and as it is stored. `proof` and `entity` carry
 * the full proof and the publisher's public entity the first time a link
 * uses them; afterwards only `proofHash` and `publisher` name them.
 */
export interface WireMessage {
  ns: string;
  uri: string;
  payloads: PayloadObject[];
  publisher: string;
  origin: string;
  session: string;
  seq: number;
  ts: number;
  persist: boolean;
  proofHash: string;
  sig: WireSignature;
  proof?: Uint8Array;
  entity?: Uint8Array;
}

/** A signed request to subscribe or to query. */
export interface WireRequest {
  kind: 'subscribe' | 'query';
  ns: string;
  pattern: string;
  requester: string;
  /** Client-chosen subscription identifier ('' for queries). */
  id: string;
  /** How long the queue outlives a disconnected subscriber, ms. */
  expiryMs: number;
  ts: number;
  proofHash: string;
  sig: Uint8Array;
  proof?: Uint8Array;
  entity?: Uint8Array;
}

/** Frames an agent sends. */
export type AgentFrame =
  | { t: 'hello'; v: number }
  | { t: 'pub'; id: number; msgs: WireMessage[] }
  | { t: 'status'; id: number }
  | { t: 'query'; id: number; req: WireRequest }
  | { t: 'sub'; req: WireRequest }
  | { t: 'ack'; seq: number }
  | { t: 'close'; unsubscribe: boolean };

/** Frames a router sends to an agent. */
export type RouterFrame =
  | {
      t: 'welcome';
      v: number;
      router: string;
      entity: string;
      maxMessageBytes: number;
    }
  | { t: 'puback'; id: number; count: number }
  | {
      t: 'err';
      id?: number;
      code: string;
      n: number;
      message: string;
      data?: Record<string, unknown>;
    }
  | { t: 'status'; id: number; status: Record<string, unknown> }
  | { t: 'qres'; id: number; msgs: Uint8Array[]; done: boolean; stale: boolean }
  | { t: 'subok'; sub: string; resumed: boolean; backlog: number }
  | { t: 'msgs'; items: { seq: number; m: Uint8Array }[]; drops: number }
  | { t: 'closed'; acked: number; reason: string };

/** Most messages one `pub` frame may carry. */
export const MAX_MESSAGES_PER_FRAME = 4096;
/** Most payload objects one message may carry. */
export const MAX_PAYLOADS_PER_MESSAGE = 64;

function parseSignature(v: unknown, frame: string): WireSignature {
  const o = obj(v, frame, 'sig');
  const path = list(o, 'path', frame, 64).map((p) => {
    if (!(p instanceof Uint8Array)) fail(frame, 'sig.path', 'byte strings');
    return p;
  });
  return {
    root: bytes(o, 'root', frame),
    signature: bytes(o, 'signature', frame),
    index: uint(o, 'index', frame),
    path,
  };
}

function parsePayload(v: unknown, frame: string): PayloadObject {
  const o = obj(v, frame, 'payloads[]');
  return {
    schema: str(o, 'schema', frame, 256),
    content: bytes(o, 'content', frame),
  };
}

/** Validates one message; throws {@link FrameFieldError}. */
export function parseWireMessage(v: unknown, frame = 'msg'): WireMessage {
  const o = obj(v, frame, 'msg');
  if (typeof o['persist'] !== 'boolean') fail(frame, 'persist', 'a boolean');
  const payloads = list(o, 'payloads', frame, MAX_PAYLOADS_PER_MESSAGE);
  const m: WireMessage = {
    ns: str(o, 'ns', frame, 128),
    uri: str(o, 'uri', frame),
    payloads: payloads.map((p) => parsePayload(p, frame)),
    publisher: str(o, 'publisher', frame, 128),
    origin: str(o, 'origin', frame, 128),
    session: str(o, 'session', frame, 128),
    seq: uint(o, 'seq', frame),
    ts: uint(o, 'ts', frame),
    persist: o['persist'],
    proofHash: str(o, 'proofHash', frame, 128),
    sig: parseSignature(o['sig'], frame),
  };
  const proof = optBytes(o, 'proof', frame);
  const entity = optBytes(o, 'entity', frame);
  if (proof) m.proof = proof;
  if (entity) m.entity = entity;
  return m;
}

/** Validates a signed subscribe or query request. */
export function parseWireRequest(v: unknown, frame: string): WireRequest {
  const o = obj(v, frame, 'req');
  const kind = o['kind'];
  if (kind !== 'subscribe' && kind !== 'query') {
    fail(frame, 'req.kind', "'subscribe' or 'query'");
  }
  const r: WireRequest = {
    kind,
    ns: str(o, 'ns', frame, 128),
    pattern: str(o, 'pattern', frame),
    requester: str(o, 'requester', frame, 128),
    id: str(o, 'id', frame, 256),
    expiryMs: uint(o, 'expiryMs', frame),
    ts: uint(o, 'ts', frame),
    proofHash: str(o, 'proofHash', frame, 128),
    sig: bytes(o, 'sig', frame),
  };
  const proof = optBytes(o, 'proof', frame);
  const entity = optBytes(o, 'entity', frame);
  if (proof) r.proof = proof;
  if (entity) r.entity = entity;
  return r;
}

/** Validates a frame received from an agent. */
export function parseAgentFrame(v: unknown): AgentFrame {
  const o = obj(v, '?', 'frame');
  const t = typeof o['t'] === 'string' ? o['t'] : '?';
  switch (t) {
    case 'hello':
      return { t, v: uint(o, 'v', t) };
    case 'pub': {
      const msgs = list(o, 'msgs', t, MAX_MESSAGES_PER_FRAME);
      return {
        t,
        id: uint(o, 'id', t),
        msgs: msgs.map((m) => parseWireMessage(m, t)),
      };
    }
    case 'status':
      return { t, id: uint(o, 'id', t) };
    case 'query':
      return { t, id: uint(o, 'id', t), req: parseWireRequest(o['req'], t) };
    case 'sub':
      return { t, req: parseWireRequest(o['req'], t) };
    case 'ack':
      return { t, seq: uint(o, 'seq', t) };
    case 'close':
      return { t, unsubscribe: o['unsubscribe'] === true };
    default:
      return fail(t, 't', 'a known frame type');
  }
}
