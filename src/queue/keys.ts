/**
 * Binary keys of the queue tables in a data store.
 *
 * Every key starts with a one-byte table tag. queue/ owns tags
 * 0x01..0x0f; tags 0x10..0x1f belong to the router's own tables in the
 * same store (see router/persist-store.ts); the rest are unassigned.
 *
 * - 0x01 spec:     tag, u16 id length, id (UTF-8) -> CBOR QueueSpec
 * - 0x02 counters: tag, u16 id length, id         -> fixed binary counters
 * - 0x03 store:    tag, name (ASCII)              -> store-wide values
 * - 0x04 items:    tag, u16 id length, id, u64 BE seq -> item value
 *
 * The id is length-prefixed so no id's keys fall inside another's range,
 * and the sequence number is big-endian so byte order is numeric order.
 */
export const TAG_SPEC = 0x01;
export const TAG_COUNTERS = 0x02;
export const TAG_STORE = 0x03;
export const TAG_ITEM = 0x04;

const utf8 = new TextEncoder();
const text = new TextDecoder();
const TWO_32 = 2 ** 32;
const SEQ_BYTES = 8;

function idKey(tag: number, id: string, extraBytes: number): Uint8Array {
  const idBytes = utf8.encode(id);
  const key = new Uint8Array(3 + idBytes.length + extraBytes);
  key[0] = tag;
  key[1] = idBytes.length >> 8;
  key[2] = idBytes.length & 0xff;
  key.set(idBytes, 3);
  return key;
}

/** Key of a queue's spec record. */
export function specKey(id: string): Uint8Array {
  return idKey(TAG_SPEC, id, 0);
}

/** Key of a queue's counters record. */
export function countersKey(id: string): Uint8Array {
  return idKey(TAG_COUNTERS, id, 0);
}

/** Key of a store-wide value named `name`. */
export function storeKey(name: string): Uint8Array {
  return Uint8Array.of(TAG_STORE, ...utf8.encode(name));
}

/** Key of item `seq` (a safe non-negative integer) of queue `id`. */
export function itemKey(id: string, seq: number): Uint8Array {
  const key = idKey(TAG_ITEM, id, SEQ_BYTES);
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const at = key.length - SEQ_BYTES;
  view.setUint32(at, Math.floor(seq / TWO_32));
  view.setUint32(at + 4, seq >>> 0);
  return key;
}

/** A key above every item key of queue `id` and below the next id's. */
export function itemRangeEnd(id: string): Uint8Array {
  const key = idKey(TAG_ITEM, id, SEQ_BYTES);
  key.fill(0xff, key.length - SEQ_BYTES);
  return key;
}

/** The queue id inside a spec, counters or item key. */
export function idOfKey(key: Uint8Array): string {
  const length = ((key[1] ?? 0) << 8) | (key[2] ?? 0);
  return text.decode(key.subarray(3, 3 + length));
}

/** The sequence number at the end of an item key. */
export function seqOfItemKey(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  const at = key.length - SEQ_BYTES;
  return view.getUint32(at) * TWO_32 + view.getUint32(at + 4);
}

/** Bounds of a whole table: every key whose first byte is `tag`. */
export function tableRange(tag: number): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: Uint8Array.of(tag), lt: Uint8Array.of(tag + 1) };
}
