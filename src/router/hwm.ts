/**
 * High-water marks: per trunk (origin router, namespace) at a designated
 * router, and per downlink at a site router, the highest sequence number
 * made durable. Stored as queue-store marks (router tables 0x14 and
 * 0x15; 0x16 holds publisher session marks, session-marks.ts), in the
 * same write as the messages they cover.
 */
import type { QueueManager } from '../queue/index.ts';

const TAG_HWM = 0x14;
const TAG_DOWNLINK_HWM = 0x15;

/** A mark key of router table `tag`: the tag, then `name` in UTF-8. */
export function markKey(tag: number, name: string): Uint8Array {
  return Buffer.concat([Uint8Array.of(tag), Buffer.from(name)]);
}

/** The mark key of the trunk from `origin` in `ns`. */
export function hwmKey(origin: string, ns: string): Uint8Array {
  return markKey(TAG_HWM, `${origin}\n${ns}`);
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

/** The mark key of the downlink feeding local queue `queue`. */
export function downlinkHwmKey(queue: string): Uint8Array {
  return markKey(TAG_DOWNLINK_HWM, queue);
}

/** The downlink's stored mark, or 0. */
export async function readDownlinkHwm(
  queues: QueueManager,
  queue: string,
): Promise<number> {
  const v = await queues.readMark(downlinkHwmKey(queue));
  return v ? Number(Buffer.from(v).readBigUInt64BE()) : 0;
}
