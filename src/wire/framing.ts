/**
 * Length-prefixed framing: every frame is a 4-byte big-endian unsigned
 * length followed by that many bytes holding exactly one CBOR item. Frames
 * delimit messages by themselves, so nothing here depends on the end of the
 * underlying stream arriving (QUIC FIN can be lost under load).
 */
import { decode, encode } from './codec.ts';
import {
  FrameTooLargeError,
  MalformedCborError,
  MalformedFrameError,
  TruncatedFrameError,
} from './errors.ts';

/** Largest frame body accepted by default: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** Size of the length prefix in bytes. */
export const FRAME_HEADER_BYTES = 4;

/** Largest length a 4-byte prefix can express. */
const MAX_PREFIX_VALUE = 0xffff_ffff;

/** Options of the framing functions. */
export interface FramingOptions {
  /** Largest frame body in bytes; default {@link DEFAULT_MAX_FRAME_BYTES}. */
  maxFrameBytes?: number;
}

function checkedMax(options: FramingOptions | undefined): number {
  const max = options?.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isInteger(max) || max < 1 || max > MAX_PREFIX_VALUE) {
    throw new RangeError(`maxFrameBytes must be 1..2^32-1, got ${max}`);
  }
  return max;
}

/** The error for a frame body of `size` bytes over the `max` limit. */
function frameTooLarge(size: number, max: number): FrameTooLargeError {
  return new FrameTooLargeError(
    `frame of ${size} bytes exceeds the frame size limit of ${max} bytes`,
    { size, max },
  );
}

function encodeBody(value: unknown, max: number): Uint8Array {
  const body = encode(value);
  if (body.byteLength > max) {
    throw frameTooLarge(body.byteLength, max);
  }
  return body;
}

/**
 * Encodes one frame: length prefix then CBOR.
 * @throws FrameTooLargeError when the body exceeds `maxFrameBytes`
 *   (default 16 MiB), so a sender never emits what its peer must refuse.
 */
export function encodeFrame(
  value: unknown,
  options?: FramingOptions,
): Uint8Array {
  return encodeFrames([value], options);
}

/**
 * Encodes several frames into one contiguous buffer, for one stream write.
 * @throws FrameTooLargeError as {@link encodeFrame}, before anything is
 *   built, when any one body is too large.
 */
export function encodeFrames(
  values: readonly unknown[],
  options?: FramingOptions,
): Uint8Array {
  const max = checkedMax(options);
  const bodies = values.map((v) => encodeBody(v, max));
  let total = 0;
  for (const body of bodies) total += FRAME_HEADER_BYTES + body.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const body of bodies) {
    view.setUint32(offset, body.byteLength, false);
    out.set(body, offset + FRAME_HEADER_BYTES);
    offset += FRAME_HEADER_BYTES + body.byteLength;
  }
  return out;
}

/**
 * Incremental frame decoder for one byte stream. Feed it chunks of any
 * size with {@link push}; it returns every frame the chunk completes.
 * Memory is bounded: it buffers at most one partial frame (the length
 * prefix is checked against `maxFrameBytes` before the body is awaited)
 * plus the frames of the current chunk.
 *
 * Errors are sticky: once the input is bad the stream cannot be
 * resynchronised, so every later call throws the same error. Frames that
 * were complete before the bad one are still returned first.
 */
export class FrameDecoder {
  /** Largest body accepted, in bytes. */
  readonly maxFrameBytes: number;
  private readonly chunks: Uint8Array[] = [];
  /** Read position inside `chunks[0]`. */
  private headOffset = 0;
  private buffered = 0;
  /** Body length of the frame being assembled; -1 while the prefix is. */
  private bodyBytes = -1;
  private failure: Error | undefined;

  /** @throws RangeError when `maxFrameBytes` is not 1..2^32-1. */
  constructor(options: FramingOptions = {}) {
    this.maxFrameBytes = checkedMax(options);
  }

  /** Bytes held that do not yet form a complete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * The error that stopped decoding, if any. Set even when {@link push}
   * returned the good frames that came before the bad one, so a caller
   * can stop reading instead of waiting for input that changes nothing.
   */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Adds `chunk` and returns the frames it completes, in order. The chunk
   * is copied as needed; the caller may reuse it afterwards.
   * @throws FrameTooLargeError when a length prefix exceeds the limit.
   * @throws MalformedFrameError when a frame is empty or not one CBOR item.
   */
  push(chunk: Uint8Array): unknown[] {
    if (this.failure) throw this.failure;
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const frames: unknown[] = [];
    try {
      for (;;) {
        const frame = this.next();
        if (frame === NEED_MORE) break;
        frames.push(frame);
      }
    } catch (err) {
      this.failure = err as Error;
      this.release();
      if (frames.length === 0) throw err;
    }
    return frames;
  }

  /**
   * Declares the end of the byte stream.
   * @throws TruncatedFrameError when part of a frame is still buffered, or
   *   the sticky error of an earlier bad frame.
   */
  end(): void {
    if (this.failure) throw this.failure;
    if (this.buffered > 0 || this.bodyBytes >= 0) {
      const size = this.bodyBytes < 0 ? 0 : this.bodyBytes;
      this.failure = new TruncatedFrameError('stream ended inside a frame', {
        reason: 'truncated',
        size,
      });
      this.release();
      throw this.failure;
    }
  }

  private next(): unknown {
    if (this.bodyBytes < 0) {
      if (this.buffered < FRAME_HEADER_BYTES) return NEED_MORE;
      const header = this.take(FRAME_HEADER_BYTES);
      const size = new DataView(
        header.buffer,
        header.byteOffset,
        FRAME_HEADER_BYTES,
      ).getUint32(0, false);
      this.checkSize(size);
      this.bodyBytes = size;
    }
    if (this.buffered < this.bodyBytes) return NEED_MORE;
    const size = this.bodyBytes;
    const body = this.take(size);
    this.bodyBytes = -1;
    return decodeBody(body, size);
  }

  private checkSize(size: number): void {
    if (size > this.maxFrameBytes) {
      throw frameTooLarge(size, this.maxFrameBytes);
    }
    if (size === 0) {
      throw new MalformedFrameError('empty frame', { reason: 'empty', size });
    }
  }

  /** Removes `n` buffered bytes (n <= buffered) into a fresh array. */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0] as Uint8Array;
      const available = head.byteLength - this.headOffset;
      const count = Math.min(available, n - filled);
      out.set(head.subarray(this.headOffset, this.headOffset + count), filled);
      filled += count;
      this.headOffset += count;
      if (this.headOffset === head.byteLength) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.buffered -= n;
    return out;
  }

  private release(): void {
    this.bodyBytes = -1;
    this.chunks.length = 0;
    this.headOffset = 0;
    this.buffered = 0;
  }
}

/** Marker returned by `next()` when the buffered bytes end mid-frame. */
const NEED_MORE: unique symbol = Symbol('need-more');

function decodeBody(body: Uint8Array, size: number): unknown {
  try {
    return decode(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } catch (err) {
    if (!(err instanceof MalformedCborError)) throw err;
    throw new MalformedFrameError(
      'frame body is not one CBOR item',
      { reason: 'cbor', size },
      { cause: err },
    );
  }
}
