/**
 * High-water marks of trunks: per (origin router, namespace), the highest
 * trunk sequence number a designated router has made durable. Stored as
 * queue-store marks (router table 0x14), in the same write as the
 * messages they cover.
 */
import type { QueueManager } from '../queue/index.ts';

const TAG_HWM = 0x14;

/** The mark key of the trunk from `origin` in `ns`. */
export function hwmKey(origin: string, ns: string): Uint8Array {
  return Buffer.concat([
    Uint8Array.of(TAG_HWM),
    Buffer.from(`${origin}\n${ns}`),
  ]);
}

/** 8-byte big-endian encoding of a mark. */
export function encodeHwm(seq: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(seq));
  return b;
}

/** The stored mark, or 0 when this trunk never delivered anything. */
export async function readHwm(
  queues: QueueManager,
  origin: string,
  ns: string,
): Promise<number> {
  const v = await queues.readMark(hwmKey(origin, ns));
  return v ? Number(Buffer.from(v).readBigUInt64BE()) : 0;
}
