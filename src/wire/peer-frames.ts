/**
 * Frames between routers: a site router (SR) and the designated router
 * (DR) of a namespace. The SR opens the connection and its first stream,
 * the peer control stream:
 *
 *   SR -> DR  phello   namespace, SR router id and public entity
 *   DR -> SR  pwelcome DR router id, public entity, route proof, and the
 *                      highest trunk sequence it already holds from this SR
 *   SR -> DR  tbatch   trunk messages with their trunk sequence numbers
 *   DR -> SR  tack     cumulative: everything up to `seq` is durable at DR
 *   DR -> SR  treject  one trunk message was refused (and skipped)
 *   DR -> SR  tneed    a message names a proof or entity the DR lacks:
 *                      resend from `seq` with them in full; the DR ignores
 *                      batches until one marked `rewind` arrives
 *   SR -> DR  pquery / DR -> SR pqres   a forwarded query
 *
 * Each TLS identity is the router's entity key, so the entity sent in the
 * hello is checked against the key the link was made with.
 */
import { parseWireRequest, type WireRequest } from './frames.ts';
import { bytes, fail, obj, str, uint } from './fields.ts';

/** Protocol version of router links. */
export const PEER_PROTOCOL_VERSION = 1;

/** One trunk message: its trunk seq and stored bytes (plus objects). */
export interface TrunkItem {
  seq: number;
  m: Uint8Array;
  proof?: Uint8Array;
  entity?: Uint8Array;
}

/** Frames a site router sends on the peer control stream. */
export type SiteFrame =
  | { t: 'phello'; v: number; ns: string; router: string; entity: Uint8Array }
  | { t: 'tbatch'; items: TrunkItem[]; rewind: boolean }
  | { t: 'pquery'; id: number; req: WireRequest };

/** Frames a designated router sends on the peer control stream. */
export type DesignatedFrame =
  | {
      t: 'pwelcome';
      v: number;
      router: string;
      entity: Uint8Array;
      proof: Uint8Array;
      hwm: number;
    }
  | { t: 'tack'; seq: number }
  | { t: 'tneed'; seq: number }
  | { t: 'treject'; seq: number; code: string; message: string }
  | { t: 'pqres'; id: number; msgs: Uint8Array[] }
  | { t: 'err'; id?: number; code: string; n: number; message: string };

/** Most messages in one trunk batch. */
export const MAX_TRUNK_BATCH = 1024;

function parseTrunkItem(v: unknown): TrunkItem {
  const o = obj(v, 'tbatch', 'items[]');
  const item: TrunkItem = {
    seq: uint(o, 'seq', 'tbatch'),
    m: bytes(o, 'm', 'tbatch'),
  };
  if (o['proof'] !== undefined) item.proof = bytes(o, 'proof', 'tbatch');
  if (o['entity'] !== undefined) item.entity = bytes(o, 'entity', 'tbatch');
  return item;
}

/** Validates a frame from a site router. */
export function parseSiteFrame(v: unknown): SiteFrame {
  const o = obj(v, '?', 'frame');
  const t = typeof o['t'] === 'string' ? o['t'] : '?';
  switch (t) {
    case 'phello':
      return {
        t,
        v: uint(o, 'v', t),
        ns: str(o, 'ns', t),
        router: str(o, 'router', t),
        entity: bytes(o, 'entity', t),
      };
    case 'tbatch': {
      const items = o['items'];
      if (!Array.isArray(items) || items.length > MAX_TRUNK_BATCH) {
        fail(t, 'items', `a list of at most ${MAX_TRUNK_BATCH} items`);
      }
      return {
        t,
        items: items.map(parseTrunkItem),
        rewind: o['rewind'] === true,
      };
    }
    case 'pquery':
      return { t, id: uint(o, 'id', t), req: parseWireRequest(o['req'], t) };
    default:
      return fail(t, 't', 'a known frame type');
  }
}

/** Validates a frame from a designated router. */
export function parseDesignatedFrame(v: unknown): DesignatedFrame {
  const o = obj(v, '?', 'frame');
  const t = typeof o['t'] === 'string' ? o['t'] : '?';
  switch (t) {
    case 'pwelcome':
      return {
        t,
        v: uint(o, 'v', t),
        router: str(o, 'router', t),
        entity: bytes(o, 'entity', t),
        proof: bytes(o, 'proof', t),
        hwm: uint(o, 'hwm', t),
      };
    case 'tack':
    case 'tneed':
      return { t, seq: uint(o, 'seq', t) };
    case 'treject':
      return {
        t,
        seq: uint(o, 'seq', t),
        code: str(o, 'code', t),
        message: str(o, 'message', t),
      };
    case 'pqres': {
      const msgs = o['msgs'];
      if (!Array.isArray(msgs) || !msgs.every((m) => m instanceof Uint8Array)) {
        fail(t, 'msgs', 'a list of byte strings');
      }
      return { t, id: uint(o, 'id', t), msgs: msgs };
    }
    case 'err':
      return {
        t,
        code: str(o, 'code', t),
        n: typeof o['n'] === 'number' ? o['n'] : 0,
        message: str(o, 'message', t),
        ...(typeof o['id'] === 'number' ? { id: o['id'] } : {}),
      };
    default:
      return fail(t, 't', 'a known frame type');
  }
}
