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
 * error's `code`; `err` frames carry both. Numbers are stable once
 * assigned: never reuse or renumber. Ranges: 1-99 wire/, 100-199 wave/,
 * 200-299 router/, 300-399 queue/, 400-499 transport/, 500-599 agent/,
 * 600-699 config/ and common/, 700-799 storage/. Every leaf error class
 * has an entry (a test checks it), even those that never leave the
 * process, so a code seen in a log is always in this one table.
 */
export const WIRE_ERROR_CODES: Readonly<Record<string, number>> = {
  MALFORMED_CBOR: 1,
  FRAME_TOO_LARGE: 2,
  MALFORMED_FRAME: 3,
  TRUNCATED_FRAME: 4,
  FRAME_FIELD_INVALID: 5,
  INVALID_HASH: 100,
  INVALID_PATTERN: 101,
  INVALID_URI: 102,
  WAVE_INVALID_ARGUMENT: 103,
  MALFORMED_OBJECT: 104,
  BAD_OBJECT_SIGNATURE: 105,
  PASSPHRASE_REQUIRED: 106,
  WRONG_PASSPHRASE: 107,
  NO_PROOF_FOUND: 108,
  PROOF_EXPIRED: 110,
  PROOF_NOT_YET_VALID: 111,
  PROOF_NAMESPACE: 112,
  PROOF_SUBJECT: 113,
  PROOF_BROKEN_CHAIN: 114,
  PROOF_INDIRECTION: 115,
  PROOF_SIGNATURE: 116,
  PERMISSION_DENIED: 117,
  PROOF_REVOKED: 118,
  REVOCATION_UNAVAILABLE: 119,
  MALFORMED_PROOF: 120,
  STORAGE_UNAVAILABLE: 121,
  STORAGE_BAD_ANSWER: 122,
  STORAGE_REFUSED: 123,
  PROOF_NOT_CACHED: 200,
  MESSAGE_TOO_LARGE: 201,
  BAD_SIGNATURE: 202,
  BAD_REQUEST: 203,
  UNEXPECTED_FRAME: 204,
  SUBSCRIPTION_SUPERSEDED: 205,
  SUBSCRIPTION_ENDED: 206,
  ROUTE_PROOF_INVALID: 207,
  PEER_IDENTITY: 208,
  NOT_DESIGNATED: 209,
  TRUNK_MESSAGE_INVALID: 210,
  INTERNAL: 299,
  INVALID_QUEUE_SPEC: 300,
  QUEUE_ACK_OUT_OF_RANGE: 301,
  QUEUE_CLOSED: 302,
  QUEUE_DELETED: 303,
  QUEUE_ENSURE_RETRY: 304,
  QUEUE_ITEM_TOO_LARGE: 305,
  QUEUE_NOT_FOUND: 306,
  QUEUE_RECORD_INVALID: 307,
  QUEUE_WRITE_FAILED: 308,
  CONNECTION_CLOSED: 400,
  CONNECT_FAILED: 401,
  INVALID_TLS_SEED: 402,
  LISTEN_FAILED: 403,
  PEER_KEY_MISMATCH: 404,
  STREAM_CLOSED: 405,
  STREAM_WAIT_QUEUE_FULL: 406,
  TICKET_KEY_FILE: 407,
  ROUTER_REFUSED: 500,
  AGENT_DISCONNECTED: 501,
  AGENT_PROTOCOL: 502,
  MISSING_PROOF: 503,
  AGENT_CLOSED: 504,
  PUBLISH_BACKLOG_FULL: 505,
  ROUTER_CHANGED: 506,
  AGENT_OPTION: 507,
  CONFIG_INVALID: 600,
  ADDRESS_INVALID: 601,
  DURATION_INVALID: 602,
  INVARIANT: 603,
  LOG_LEVEL_INVALID: 604,
  FILE_UNREADABLE: 605,
  STORAGE_BAD_REQUEST: 700,
  STORAGE_NOT_FOUND: 701,
  STORAGE_METHOD_NOT_ALLOWED: 702,
  STORAGE_TOO_LARGE: 703,
};

/** The numeric wire code of an error code; INTERNAL's when unknown. */
export function wireErrorNumber(code: string): number {
  return WIRE_ERROR_CODES[code] ?? (WIRE_ERROR_CODES['INTERNAL'] as number);
}
