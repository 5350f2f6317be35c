import type { QueueId } from '../common/ids.ts';
import { InvalidQueueSpecError } from './errors.ts';

/**
 * Bounds of one queue. When an append would exceed `maxLength` or
 * `maxBytes`, the oldest items are dropped (and counted) until it fits.
 */
export interface QueueLimits {
  /** Most items kept; a positive integer. */
  maxLength: number;
  /** Most payload bytes kept (sum of item sizes); a positive integer. */
  maxBytes: number;
  /** Items older than this are dropped by the sweep; Infinity = no limit. */
  maxAgeMs: number;
}

/** What a queue feeds; used for metric labels and expiry rules. */
export type QueueKind = 'subscription' | 'trunk' | 'downlink';

/** Every {@link QueueKind}, in a fixed order (metric label values). */
export const QUEUE_KINDS: readonly QueueKind[] = [
  'subscription',
  'trunk',
  'downlink',
];

/** How a queue is bounded and kept; stored with the queue. */
export interface QueueSpec {
  kind: QueueKind;
  limits: QueueLimits;
  /**
   * A subscription or downlink queue not touched for this long is deleted
   * by the sweep; undefined = never expires. Trunks never expire, whatever
   * this says.
   */
  idleExpiryMs: number | undefined;
  /** Opaque CBOR-encodable data the router keeps with the queue. */
  record: unknown;
}

/** One stored item, as returned by `peek`. */
export interface QueueItem {
  /** Position in the queue; strictly increasing, never reused. */
  seq: number;
  /**
   * The payload exactly as appended. Read-only: it may share memory with
   * the store (the in-memory store hands out its own copy).
   */
  bytes: Uint8Array;
  /** Wall-clock time of the append, in ms since the epoch. */
  enqueuedAtMs: number;
}

/** Longest queue id accepted, in UTF-8 bytes (the key prefix is u16). */
export const MAX_QUEUE_ID_BYTES = 1024;

function isPositiveInteger(n: unknown): boolean {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

function isPositiveDuration(n: unknown): boolean {
  return typeof n === 'number' && !Number.isNaN(n) && n > 0;
}

/**
 * Checks a queue id and spec before anything is stored.
 * @throws InvalidQueueSpecError naming the offending field.
 */
export function validateSpec(id: QueueId, spec: QueueSpec): void {
  const fail = (field: string): never => {
    throw new InvalidQueueSpecError(`invalid queue ${field}`, {
      queue: id,
      field,
    });
  };
  const idBytes = Buffer.byteLength(id, 'utf8');
  if (idBytes === 0 || idBytes > MAX_QUEUE_ID_BYTES) fail('id');
  if (!QUEUE_KINDS.includes(spec.kind)) fail('kind');
  if (!isPositiveInteger(spec.limits.maxLength)) fail('limits.maxLength');
  if (!isPositiveInteger(spec.limits.maxBytes)) fail('limits.maxBytes');
  if (!isPositiveDuration(spec.limits.maxAgeMs)) fail('limits.maxAgeMs');
  const idle = spec.idleExpiryMs;
  if (idle !== undefined && !(isPositiveDuration(idle) && isFinite(idle))) {
    fail('idleExpiryMs');
  }
}

/** True when the sweep may delete this queue for being idle. */
export function canExpire(spec: QueueSpec): boolean {
  return spec.kind !== 'trunk' && spec.idleExpiryMs !== undefined;
}
