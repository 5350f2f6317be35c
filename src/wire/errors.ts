import { WavemqError } from '../common/index.ts';

/**
 * Bytes that are not one well-formed CBOR item (empty, truncated, trailing
 * bytes, reserved codes). `data.length` is the input size in bytes.
 */
export class MalformedCborError extends WavemqError<{ length: number }> {
  readonly code = 'MALFORMED_CBOR';
}

/**
 * A frame's length prefix is larger than the decoder's limit. The stream
 * that carried it cannot be resynchronised and must be abandoned.
 */
export class FrameTooLargeError extends WavemqError<{
  size: number;
  max: number;
}> {
  readonly code = 'FRAME_TOO_LARGE';
}

/** Detail of a {@link MalformedFrameError}. */
export interface MalformedFrameData extends Record<string, unknown> {
  /** What was wrong: `empty`, `cbor` or `truncated`. */
  reason: 'empty' | 'cbor' | 'truncated';
  /** Length prefix of the offending frame, in bytes. */
  size: number;
}

/** A frame's body is not exactly one CBOR item, or the frame was cut. */
export class MalformedFrameError extends WavemqError<MalformedFrameData> {
  readonly code: string = 'MALFORMED_FRAME';
}

/**
 * The byte stream ended in the middle of a frame (a subclass of
 * {@link MalformedFrameError}, so one catch covers both).
 */
export class TruncatedFrameError extends MalformedFrameError {
  override readonly code: string = 'TRUNCATED_FRAME';
}

/**
 * Numeric codes that carry an error across the wire, keyed by each leaf
 * error's `code`. Numbers are stable once assigned: never reuse or renumber.
 * 1-99 are wire/ errors; other folders take the ranges noted beside them.
 */
export const WIRE_ERROR_CODES: Record<string, number> = {
  MALFORMED_CBOR: 1,
  FRAME_TOO_LARGE: 2,
  MALFORMED_FRAME: 3,
  TRUNCATED_FRAME: 4,
};
