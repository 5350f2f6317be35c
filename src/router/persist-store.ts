/**
 * The router's own tables in the shared data store: its stable id, the
 * last persisted message per URI (answers queries), and the proofs and
 * public entities that stored messages name by hash.
 *
 * Table tags 0x10..0x1f of the data store belong to the router (queue/
 * owns 0x01..0x0f). Keys: tag byte, then the table's key bytes. Here:
 * 0x10 router id, 0x11 persisted messages, 0x12 proofs, 0x13 entities.
 * In the queue store, written as marks with the messages they cover:
 * 0x14 trunk and 0x15 downlink high-water marks (hwm.ts), 0x16 publisher
 * session marks (session-marks.ts).
 */
import { randomUUID } from 'node:crypto';
import type { DataStore } from '../queue/index.ts';
import type { RouterId } from '../common/ids.ts';
import { matches } from '../wave/index.ts';

const TAG_META = 0x10;
const TAG_PERSISTED = 0x11;
const TAG_PROOF = 0x12;
const TAG_ENTITY = 0x13;

const utf8 = new TextEncoder();
const text = new TextDecoder();

function key(tag: number, ...parts: string[]): Uint8Array {
  const chunks: Uint8Array[] = [Uint8Array.of(tag)];
  for (const p of parts) {
    const b = utf8.encode(p);
    // Length-prefixed so that no namespace is a prefix of another.
    chunks.push(Uint8Array.of(b.length >> 8, b.length & 0xff), b);
  }
  return Buffer.concat(chunks);
}

/** Persisted messages, the router id, and stored proofs/entities. */
export class PersistStore {
  constructor(private readonly store: DataStore) {}

  /** The router's id, created once and kept for the store's lifetime. */
  async routerId(): Promise<RouterId> {
    const k = key(TAG_META, 'routerId');
    const found = await this.store.db.get(k);
    if (found) return text.decode(found) as RouterId;
    const id = randomUUID();
    await this.store.db.put(k, utf8.encode(id), { sync: true });
    return id as RouterId;
  }

  /**
   * Keeps each message as the last persisted one for its (ns, uri), in
   * one synced write; later entries win over earlier ones.
   */
  async putPersisted(
    messages: { ns: string; uri: string; bytes: Uint8Array }[],
  ): Promise<void> {
    if (messages.length === 0) return;
    const ops = messages.map((m) => ({
      type: 'put' as const,
      key: key(TAG_PERSISTED, m.ns, m.uri),
      value: m.bytes,
    }));
    await this.store.db.batch(ops, { sync: true });
  }

  /** Every persisted message in `ns` whose URI matches `pattern`. */
  async query(
    ns: string,
    pattern: string,
    limit = 10_000,
  ): Promise<Uint8Array[]> {
    const prefix = key(TAG_PERSISTED, ns);
    const out: Uint8Array[] = [];
    const iter = this.store.db.iterator({
      gte: prefix,
      lt: upperBound(prefix),
    });
    try {
      for await (const [k, v] of iter) {
        const uri = text.decode(k.subarray(prefix.length + 2));
        if (!matches(pattern, uri)) continue;
        out.push(v);
        if (out.length >= limit) break;
      }
    } finally {
      await iter.close();
    }
    return out;
  }

  /** Stores a proof or public entity under its hash (write-once). */
  async putObject(
    kind: 'proof' | 'entity',
    hash: string,
    bytes: Uint8Array,
  ): Promise<void> {
    const k = key(kind === 'proof' ? TAG_PROOF : TAG_ENTITY, hash);
    await this.store.db.put(k, bytes);
  }

  /** A stored proof or public entity, if known. */
  async getObject(
    kind: 'proof' | 'entity',
    hash: string,
  ): Promise<Uint8Array | undefined> {
    const k = key(kind === 'proof' ? TAG_PROOF : TAG_ENTITY, hash);
    return (await this.store.db.get(k)) ?? undefined;
  }
}

function upperBound(prefix: Uint8Array): Uint8Array {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if ((b[i] as number) < 0xff) {
      b[i] = (b[i] as number) + 1;
      return b.subarray(0, i + 1);
    }
  }
  return Buffer.concat([b, Uint8Array.of(0xff)]);
}
