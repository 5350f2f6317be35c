import { QueueClosedError } from './errors.ts';
import type { KvOp, KvRange, KvStore } from './kv-store.ts';

/**
 * Keys as latin1 strings: one char per byte, so JavaScript's string order
 * is the bytewise order LevelDB uses.
 */
function toText(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1');
}

function fromText(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

/**
 * Deletions in one batch above which the sorted key list is rebuilt once
 * instead of spliced per key.
 */
const REBUILD_AFTER_DELETES = 32;

/**
 * An in-memory {@link KvStore}: a map plus a sorted key list. Nothing
 * survives the process; `sync` is accepted and has no effect. Used for
 * tests and for routers configured without a data store. Bounded only by
 * what the queues above it keep (their own limits).
 */
export class MemoryKvStore implements KvStore {
  private readonly values = new Map<string, Uint8Array>();
  private keys: string[] = [];
  private closed = false;

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.assertOpen();
    return Promise.resolve(this.values.get(toText(key)));
  }

  async *scan(range: KvRange): AsyncIterable<[Uint8Array, Uint8Array]> {
    this.assertOpen();
    // Snapshot: the matching keys and values as of now.
    const entries = this.collect(range);
    for (const entry of entries) yield entry;
    await Promise.resolve();
  }

  /** Applies `ops` in order; there is no disk, so `sync` changes nothing. */
  write(ops: KvOp[]): Promise<void> {
    this.assertOpen();
    const deleted = new Set<string>();
    for (const op of ops) {
      const k = toText(op.key);
      if (op.type === 'put') {
        // A key deleted earlier in this batch is still in the key list.
        if (!this.values.has(k) && !deleted.has(k)) this.insertKey(k);
        // Copied: callers may reuse their buffers once the write returns.
        this.values.set(k, new Uint8Array(op.value));
        deleted.delete(k);
      } else if (this.values.delete(k)) {
        deleted.add(k);
      }
    }
    this.removeKeys(deleted);
    return Promise.resolve();
  }

  clear(range: { gte: Uint8Array; lt: Uint8Array }): Promise<void> {
    this.assertOpen();
    const from = this.lowerBound(toText(range.gte));
    const to = this.lowerBound(toText(range.lt));
    if (to > from) {
      for (const k of this.keys.splice(from, to - from)) this.values.delete(k);
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  /** Number of keys held; for tests. */
  get size(): number {
    return this.values.size;
  }

  private collect(range: KvRange): [Uint8Array, Uint8Array][] {
    const out: [Uint8Array, Uint8Array][] = [];
    const limit = range.limit ?? Infinity;
    const lt = range.lt && toText(range.lt);
    const lte = range.lte && toText(range.lte);
    let i = 0;
    if (range.gte) i = this.lowerBound(toText(range.gte));
    if (range.gt) i = Math.max(i, this.upperBound(toText(range.gt)));
    for (; i < this.keys.length && out.length < limit; i++) {
      const k = this.keys[i] as string;
      if ((lt !== undefined && k >= lt) || (lte !== undefined && k > lte)) {
        break;
      }
      out.push([fromText(k), this.values.get(k) as Uint8Array]);
    }
    return out;
  }

  private insertKey(k: string): void {
    const last = this.keys[this.keys.length - 1];
    if (last === undefined || k > last) this.keys.push(k);
    else this.keys.splice(this.lowerBound(k), 0, k);
  }

  private removeKeys(deleted: Set<string>): void {
    if (deleted.size > REBUILD_AFTER_DELETES) {
      this.keys = this.keys.filter((k) => !deleted.has(k));
      return;
    }
    for (const k of deleted) this.keys.splice(this.lowerBound(k), 1);
  }

  /** Index of the first key >= k. */
  private lowerBound(k: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the first key > k. */
  private upperBound(k: string): number {
    const i = this.lowerBound(k);
    return this.keys[i] === k ? i + 1 : i;
  }

  private assertOpen(): void {
    if (this.closed) throw new QueueClosedError('memory store is closed', {});
  }
}
