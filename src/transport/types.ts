/**
 * The transport interface: what every layer above sees of a link. QUIC and
 * the in-memory transport both implement it, with the same semantics.
 */
import type { TlsIdentity } from './tls.ts';

export type { TlsIdentity } from './tls.ts';

/** One bidirectional stream of CBOR frames. */
export interface FrameStream {
  /** Stream number, unique within its connection. */
  readonly id: number;
  /**
   * Sends one frame; resolves once it is handed to the transport.
   * @throws StreamClosedError after close; FrameTooLargeError when the
   *   encoded frame exceeds the connection's `maxFrameBytes`.
   */
  send(frame: unknown): Promise<void>;
  /** Sends several frames in one write; throws as {@link send}. */
  sendMany(frames: unknown[]): Promise<void>;
  /**
   * The decoded frames, in order. Ends when the stream or its connection
   * closes (locally, by the peer, or when the link dies); throws
   * FrameTooLargeError or MalformedFrameError on bad input, after which
   * the stream is closed. May be iterated once.
   */
  frames(): AsyncIterable<unknown>;
  /** Closes both directions and frees the stream slot; idempotent. */
  close(): Promise<void>;
  /** Resolves when the stream is closed, for whatever reason. */
  readonly closed: Promise<void>;
}

/** A link to one peer. */
export interface Connection {
  /** Identifier for logs; the same string on both ends for QUIC. */
  readonly id: string;
  /** The peer's current address (it may change with NAT rebinding). */
  readonly remote: { host: string; port: number };
  /** The peer's raw Ed25519 key when it presented a certificate. */
  readonly peerPublicKey: Uint8Array | undefined;
  /**
   * True when the TLS handshake resumed an earlier session (QUIC only;
   * absent on transports without sessions).
   */
  readonly resumed?: boolean;
  /**
   * Opens a stream; waits while the connection's stream slots (kept below
   * the peer's limit) are all taken.
   * @throws ConnectionClosedError when the connection is or becomes
   *   closed; the signal's reason when aborted.
   */
  openStream(options?: { signal?: AbortSignal }): Promise<FrameStream>;
  /**
   * Sets the handler for streams the peer opens. Streams that arrive
   * before a handler is set wait in a small queue (see the implementation
   * for its bound); a later call replaces the handler.
   */
  onStream(handler: (stream: FrameStream) => void): void;
  /**
   * Closes the connection and all its streams at once; idempotent. Data
   * still queued on streams may be lost: the layers above acknowledge
   * what they need delivered. `reason` reaches the peer's `closed`.
   */
  close(reason?: string): Promise<void>;
  /** Resolves once closed, with why (local reason, peer, idle timeout). */
  readonly closed: Promise<{ reason: string }>;
}

/** Options of {@link Transport.listen}. */
export interface ListenOptions {
  /** Address to bind, e.g. `127.0.0.1` or `::`. */
  host: string;
  /** UDP port; 0 picks an ephemeral one (see {@link Listener.port}). */
  port: number;
  /** Certificate the server presents. */
  identity: TlsIdentity;
  /**
   * 48-byte key under which the server encrypts TLS session tickets, so
   * clients can resume across connections and, with a persisted key (see
   * `loadOrCreateTicketKey`), across restarts. Unset: sessions are not
   * resumed. QUIC only; the in-memory transport ignores it.
   * @throws RangeError from listen() when not 48 bytes.
   */
  ticketKey?: Uint8Array;
  /** Called once per accepted connection. */
  onConnection: (connection: Connection) => void;
  /**
   * When set, clients must present a certificate whose Ed25519 key this
   * accepts; others are refused during the handshake. When unset, clients
   * are not asked for certificates (their `peerPublicKey` is undefined).
   */
  verifyClient?: (peerPublicKey: Uint8Array) => boolean;
  /** Largest frame accepted (and sent) per connection; 16 MiB. */
  maxFrameBytes?: number;
  /** Aborting stops the listener. */
  signal?: AbortSignal;
}

/** Options of {@link Transport.connect}. */
export interface ConnectOptions {
  host: string;
  port: number;
  /** Client certificate, presented when the server asks for one. */
  identity?: TlsIdentity;
  /** Refuse the server unless its certificate holds this Ed25519 key. */
  expectedServerKey?: Uint8Array;
  /** Largest frame accepted (and sent) on this connection; 16 MiB. */
  maxFrameBytes?: number;
  /** Handshake deadline in ms; default 15 000 (see native-notes.md). */
  timeoutMs?: number;
  /** Aborting cancels the connect attempt. */
  signal?: AbortSignal;
}

/** A bound server. */
export interface Listener {
  readonly host: string;
  /** The bound port (the ephemeral one when 0 was asked for). */
  readonly port: number;
  /** Stops accepting and closes every accepted connection; idempotent. */
  stop(): Promise<void>;
}

/** A way to make links: QUIC in production, in-memory in tests. */
export interface Transport {
  /** @throws ListenError when the address cannot be bound. */
  listen(options: ListenOptions): Promise<Listener>;
  /**
   * @throws ConnectError when the handshake fails or times out;
   *   PeerKeyMismatchError when the server is not the expected one.
   */
  connect(options: ConnectOptions): Promise<Connection>;
}
