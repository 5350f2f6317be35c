/**
 * The queue state changes, applied to a batch being built (Tx). Each one
 * keeps the counters' invariant: stored items are exactly
 * headSeq..tailSeq, and head fields describe item headSeq.
 */
import type { DropReason } from './metrics.ts';
import type { QueueCore } from './queue-core.ts';
import { fillItemHeader, ITEM_HEADER_BYTES } from './records.ts';
import type { ItemMeta, Tx } from './tx.ts';

/** Moves the head to `meta` (or past the tail when undefined: empty). */
function moveHead(tx: Tx, core: QueueCore, meta: ItemMeta | undefined): number {
  const c = tx.counters(core);
  const from = c.headSeq;
  const to = meta ? meta.seq : c.tailSeq + 1;
  if (to <= from) return 0;
  tx.removeItems(core, from, to);
  c.headSeq = to;
  c.headCumBytes = meta ? meta.cumBytes : c.tailCumBytes;
  c.headEnqueuedAtMs = meta ? meta.enqueuedAtMs : 0;
  return to - from;
}

function countDrops(
  tx: Tx,
  core: QueueCore,
  reason: DropReason,
  count: number,
): void {
  if (count <= 0) return;
  tx.counters(core).drops += count;
  tx.drops.push({ core, reason, count });
}

/**
 * Drops oldest items until `incomingItems` more items of `incomingBytes`
 * fit the queue's limits (0, 0 trims to the limits as they are).
 * The caller has checked that incomingBytes <= maxBytes.
 */
export async function makeRoom(
  tx: Tx,
  core: QueueCore,
  incomingItems: 0 | 1,
  incomingBytes: number,
): Promise<void> {
  const { maxLength, maxBytes } = tx.spec(core).limits;
  const c = tx.counters(core);
  const keep = maxLength - incomingItems;
  const byLength = Math.max(c.headSeq, c.tailSeq + 1 - keep);
  const fits = (cumBytes: number): boolean =>
    c.tailCumBytes - cumBytes + incomingBytes <= maxBytes;
  if (byLength === c.headSeq && fits(c.headCumBytes)) return;
  const oldHead = c.headSeq;
  let target: ItemMeta | undefined;
  if (byLength <= c.tailSeq) {
    const first = await tx.metaAt(core, byLength);
    target = fits(first.cumBytes)
      ? first
      : await firstFitting(tx, core, first, fits);
  }
  moveHead(tx, core, target);
  const lengthDrops = Math.min(byLength, c.headSeq) - oldHead;
  countDrops(tx, core, 'length', lengthDrops);
  countDrops(tx, core, 'bytes', c.headSeq - oldHead - lengthDrops);
}

/** First item after `from` whose running total satisfies `fits`. */
async function firstFitting(
  tx: Tx,
  core: QueueCore,
  from: ItemMeta,
  fits: (cumBytes: number) => boolean,
): Promise<ItemMeta | undefined> {
  for await (const meta of tx.metasFrom(core, from.seq + 1)) {
    if (fits(meta.cumBytes)) return meta;
  }
  return undefined;
}

/**
 * Appends one item, dropping oldest items first as the limits require.
 * `value` is a stored item value from newItemValue; its header is filled
 * here. Returns the item's seq.
 */
export async function appendItem(
  tx: Tx,
  core: QueueCore,
  value: Uint8Array,
  enqueuedAtMs: number,
): Promise<number> {
  const size = value.length - ITEM_HEADER_BYTES;
  await makeRoom(tx, core, 1, size);
  const c = tx.counters(core);
  const seq = c.tailSeq + 1;
  const meta = { seq, cumBytes: c.tailCumBytes, enqueuedAtMs };
  fillItemHeader(value, enqueuedAtMs, c.tailCumBytes);
  if (c.headSeq === seq) {
    c.headCumBytes = c.tailCumBytes;
    c.headEnqueuedAtMs = enqueuedAtMs;
  }
  c.tailSeq = seq;
  c.tailCumBytes += size;
  tx.putItem(core, meta, value, size);
  return seq;
}

/**
 * Removes items up to `uptoSeq` (<= the working tailSeq; checked by the
 * caller). Seqs already removed are ignored. Returns the items removed.
 */
export async function ackUpTo(
  tx: Tx,
  core: QueueCore,
  uptoSeq: number,
): Promise<number> {
  const c = tx.counters(core);
  if (uptoSeq < c.headSeq) return 0;
  const next = uptoSeq + 1;
  const meta = next <= c.tailSeq ? await tx.metaAt(core, next) : undefined;
  const removed = moveHead(tx, core, meta);
  tx.acked.set(core, (tx.acked.get(core) ?? 0) + removed);
  return removed;
}

/**
 * Drops items appended before `cutoffMs`, oldest first, looking at no
 * more than `maxItems` of them. Returns true when more may remain.
 */
export async function dropAged(
  tx: Tx,
  core: QueueCore,
  cutoffMs: number,
  maxItems: number,
): Promise<boolean> {
  const c = tx.counters(core);
  if (c.headSeq > c.tailSeq || c.headEnqueuedAtMs >= cutoffMs) return false;
  let seen = 0;
  let young: ItemMeta | undefined;
  let last: ItemMeta | undefined;
  for await (const meta of tx.metasFrom(core, c.headSeq)) {
    if (meta.enqueuedAtMs >= cutoffMs) {
      young = meta;
      break;
    }
    last = meta;
    if (++seen >= maxItems) break;
  }
  const more =
    young === undefined && last !== undefined && last.seq < c.tailSeq;
  const target =
    young ?? (more && last ? await tx.metaAt(core, last.seq + 1) : undefined);
  countDrops(tx, core, 'age', moveHead(tx, core, target));
  return more;
}
