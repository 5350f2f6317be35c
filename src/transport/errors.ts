import { WavemqError } from '../common/index.ts';

/** A TLS identity seed is not 32 bytes. */
export class InvalidSeedError extends WavemqError<{ length: number }> {
  readonly code = 'INVALID_TLS_SEED';
}

/**
 * The peer's certificate key is not the one expected (server pinning), or
 * the peer presented no usable Ed25519 certificate.
 */
export class PeerKeyMismatchError extends WavemqError<{
  /** Expected raw Ed25519 key, base64url. */
  expected: string;
  /** Key the peer presented, base64url; '' when none could be read. */
  actual: string;
}> {
  readonly code = 'PEER_KEY_MISMATCH';
}

/** Connecting failed: unreachable, timed out, refused or aborted. */
export class ConnectError extends WavemqError<{
  host: string;
  port: number;
  reason: string;
}> {
  readonly code = 'CONNECT_FAILED';
}

/** Listening failed (address in use, bad host). */
export class ListenError extends WavemqError<{
  host: string;
  port: number;
  reason: string;
}> {
  readonly code = 'LISTEN_FAILED';
}

/** The connection is closed; no stream can be opened on it. */
export class ConnectionClosedError extends WavemqError<{
  connection: string;
  reason: string;
}> {
  readonly code = 'CONNECTION_CLOSED';
}

/** The stream is closed; nothing more can be sent on it. */
export class StreamClosedError extends WavemqError<{
  connection: string;
  stream: number;
}> {
  readonly code = 'STREAM_CLOSED';
}

/** Too many callers are already waiting for a stream slot. */
export class StreamWaitQueueFullError extends WavemqError<{
  connection: string;
  maxWaiters: number;
}> {
  readonly code = 'STREAM_WAIT_QUEUE_FULL';
}

/**
 * A session ticket key file cannot be used: unreadable, not a file, of
 * the wrong size, or not writable when a new key is due.
 */
export class TicketKeyFileError extends WavemqError<{
  /** The key file. */
  path: string;
  /** What is wrong with it. */
  reason: string;
}> {
  readonly code = 'TICKET_KEY_FILE';
}
