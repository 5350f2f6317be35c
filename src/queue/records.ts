/**
 * Value encodings of the queue tables (keys are in keys.ts).
 *
 * Specs are CBOR, encoded like wire/codec.ts (plain maps, untagged byte
 * strings) so the router's opaque `record` round-trips unchanged.
 * Counters and item headers are fixed binary: they are rewritten on every
 * append and ack, and must cost nothing to encode.
 */
import { Encoder } from 'cbor-x';
import { QueueRecordError } from './errors.ts';
import { QUEUE_KINDS, type QueueKind, type QueueSpec } from './types.ts';

const cbor = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
});

const FORMAT_VERSION = 1;

/**
 * Per-queue positions, persisted in the same batch as every change to the
 * queue's items, so they always agree with the stored items.
 *
 * Stored items are exactly seqs headSeq..tailSeq (removal only ever
 * advances the head). Byte accounting uses running totals: each item
 * stores the total bytes appended before it (`cumBytes`), so the backlog
 * is `tailCumBytes - headCumBytes` without reading any item.
 */
export interface QueueCounters {
  /** First stored seq; tailSeq + 1 when empty. */
  headSeq: number;
  /** Bytes appended before the head item; tailCumBytes when empty. */
  headCumBytes: number;
  /** Append time of the head item (ms); 0 when empty. */
  headEnqueuedAtMs: number;
  /** Highest seq ever assigned; 0 before the first append. */
  tailSeq: number;
  /** Bytes ever appended to the queue. */
  tailCumBytes: number;
  /** Items dropped by limits since the queue was created. */
  drops: number;
}

/** Counters of a queue that never held an item. */
export function emptyCounters(): QueueCounters {
  return {
    headSeq: 1,
    headCumBytes: 0,
    headEnqueuedAtMs: 0,
    tailSeq: 0,
    tailCumBytes: 0,
    drops: 0,
  };
}

const COUNTER_FIELDS = 7;
const COUNTERS_BYTES = 1 + 8 * COUNTER_FIELDS;

/** Binary form of counters plus the last-touch time (ms). */
export function encodeCounters(
  c: QueueCounters,
  lastTouchMs: number,
): Uint8Array {
  const out = new Uint8Array(COUNTERS_BYTES);
  const view = new DataView(out.buffer);
  out[0] = FORMAT_VERSION;
  const fields = [
    c.headSeq,
    c.headCumBytes,
    c.headEnqueuedAtMs,
    c.tailSeq,
    c.tailCumBytes,
    c.drops,
    lastTouchMs,
  ];
  fields.forEach((v, i) => view.setFloat64(1 + 8 * i, v));
  return out;
}

/**
 * Reads a counters record.
 * @throws QueueRecordError when the record has another size or version.
 */
export function decodeCounters(bytes: Uint8Array): {
  counters: QueueCounters;
  lastTouchMs: number;
} {
  if (bytes.length !== COUNTERS_BYTES || bytes[0] !== FORMAT_VERSION) {
    throw new QueueRecordError('unreadable queue counters', {
      table: 'counters',
      reason: `length ${bytes.length}, version ${bytes[0] ?? -1}`,
    });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const f = (i: number): number => view.getFloat64(1 + 8 * i);
  return {
    counters: {
      headSeq: f(0),
      headCumBytes: f(1),
      headEnqueuedAtMs: f(2),
      tailSeq: f(3),
      tailCumBytes: f(4),
      drops: f(5),
    },
    lastTouchMs: f(6),
  };
}

/** Bytes before the payload in a stored item value. */
export const ITEM_HEADER_BYTES = 17;

/**
 * A stored item value with room for the header, which
 * {@link fillItemHeader} writes once the item's position is known.
 */
export function newItemValue(payload: Uint8Array): Uint8Array {
  const value = new Uint8Array(ITEM_HEADER_BYTES + payload.length);
  value.set(payload, ITEM_HEADER_BYTES);
  return value;
}

/** Writes version, append time (ms) and bytes-before into an item value. */
export function fillItemHeader(
  value: Uint8Array,
  enqueuedAtMs: number,
  cumBytes: number,
): void {
  const view = new DataView(value.buffer, value.byteOffset, value.length);
  value[0] = FORMAT_VERSION;
  view.setFloat64(1, enqueuedAtMs);
  view.setFloat64(9, cumBytes);
}

/** What a stored item value holds; `bytes` is a view, not a copy. */
export interface DecodedItem {
  enqueuedAtMs: number;
  cumBytes: number;
  bytes: Uint8Array;
}

/**
 * Reads a stored item value.
 * @throws QueueRecordError when the value is too short or of another
 * version.
 */
export function decodeItemValue(value: Uint8Array): DecodedItem {
  if (value.length < ITEM_HEADER_BYTES || value[0] !== FORMAT_VERSION) {
    throw new QueueRecordError('unreadable queue item', {
      table: 'items',
      reason: `length ${value.length}, version ${value[0] ?? -1}`,
    });
  }
  const view = new DataView(value.buffer, value.byteOffset, value.length);
  return {
    enqueuedAtMs: view.getFloat64(1),
    cumBytes: view.getFloat64(9),
    bytes: value.subarray(ITEM_HEADER_BYTES),
  };
}

interface StoredSpec {
  v: number;
  kind: QueueKind;
  maxLength: number;
  maxBytes: number;
  maxAgeMs: number | null;
  idleExpiryMs: number | null;
  record: unknown;
}

/** CBOR form of a spec; Infinity and undefined are stored as null. */
export function encodeSpec(spec: QueueSpec): Uint8Array {
  const stored: StoredSpec = {
    v: FORMAT_VERSION,
    kind: spec.kind,
    maxLength: spec.limits.maxLength,
    maxBytes: spec.limits.maxBytes,
    maxAgeMs: isFinite(spec.limits.maxAgeMs) ? spec.limits.maxAgeMs : null,
    idleExpiryMs: spec.idleExpiryMs ?? null,
    record: spec.record,
  };
  return cbor.encode(stored);
}

/**
 * Reads a spec record.
 * @throws QueueRecordError when it is not a spec this version wrote.
 */
export function decodeSpec(bytes: Uint8Array): QueueSpec {
  let s: Partial<StoredSpec> | undefined;
  try {
    s = cbor.decode(bytes) as Partial<StoredSpec> | undefined;
  } catch (err) {
    throw new QueueRecordError(
      'unreadable queue spec',
      { table: 'spec', reason: 'cbor' },
      { cause: err },
    );
  }
  if (s?.v !== FORMAT_VERSION || !QUEUE_KINDS.includes(s.kind as QueueKind)) {
    throw new QueueRecordError('unreadable queue spec', {
      table: 'spec',
      reason: 'version or kind',
    });
  }
  return {
    kind: s.kind as QueueKind,
    limits: {
      maxLength: Number(s.maxLength),
      maxBytes: Number(s.maxBytes),
      maxAgeMs: s.maxAgeMs ?? Number.POSITIVE_INFINITY,
    },
    idleExpiryMs: s.idleExpiryMs ?? undefined,
    record: s.record,
  };
}

/** Eight-byte big-endian float, for store-wide timestamps. */
export function encodeTime(ms: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, ms);
  return out;
}

/** Reads {@link encodeTime}; undefined when the value is not 8 bytes. */
export function decodeTime(bytes: Uint8Array): number | undefined {
  if (bytes.length !== 8) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0);
}
