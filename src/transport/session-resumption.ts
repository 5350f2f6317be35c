/**
 * TLS session resumption for QUIC links, on the native hooks of
 * native-hooks.ts: a client keeps the latest session of each server and
 * offers it to the next connect. A resumed link is an ordinary link
 * whose handshake skipped the certificate exchange. native-notes.md says
 * what this does and does not save.
 */
import { hkdfSync } from 'node:crypto';
import type { ClientCryptoOps, QUICConnection } from '@matrixai/quic';
import { LruMap, type Logger } from '../common/index.ts';
import {
  lacks,
  type NativeConnection,
  type NativeHooks,
} from './native-hooks.ts';
import { keyText } from './tls.ts';

/** Bytes of a session ticket key, as quiche (BoringSSL) requires. */
export const TICKET_KEY_BYTES = 48;
/** Servers whose latest session one transport keeps; oldest dropped. */
export const MAX_STORED_SESSIONS = 256;

/**
 * The key a listener's tickets are really encrypted under: its ticket
 * key bound to the certificate's public key (HKDF-SHA256, 48 bytes). A
 * resumed handshake skips the certificate exchange, and the client is
 * shown the certificate remembered in the session; so a server whose
 * identity changed must not redeem tickets issued under the old one.
 * With this it cannot, and its clients do a full handshake instead.
 */
export function identityTicketKey(
  ticketKey: Uint8Array,
  publicKey: Uint8Array,
): Uint8Array {
  const info = 'wavemq/1 session tickets';
  return new Uint8Array(
    hkdfSync('sha256', ticketKey, publicKey, info, TICKET_KEY_BYTES),
  );
}

/** The library's native connection, when it has the calls we use. */
function nativeOf(conn: QUICConnection): NativeConnection | undefined {
  const n = (conn as unknown as { conn?: unknown }).conn;
  return lacks(n, ['session', 'isResumed'])
    ? undefined
    : (n as NativeConnection);
}

/** True when the connection's handshake resumed an earlier session. */
export function isResumed(conn: QUICConnection): boolean {
  try {
    return nativeOf(conn)?.isResumed() ?? false;
  } catch (err) {
    // Only a connection torn down underneath can refuse; report full.
    void err;
    return false;
  }
}

/** The connection's latest resumable session, if it received a ticket. */
function sessionOf(conn: QUICConnection): Uint8Array | undefined {
  try {
    const s = nativeOf(conn)?.session();
    return s && s.byteLength > 0 ? Uint8Array.from(s) : undefined;
  } catch (err) {
    // Nothing to keep from a connection that cannot tell; the next
    // connect offers the previous session or none.
    void err;
    return undefined;
  }
}

/** A server a client resumes with: address and the key it pinned. */
export interface SessionServer {
  host: string;
  port: number;
  expectedServerKey?: Uint8Array | undefined;
}

/** One connect as the session store sees it. */
export interface ResumeAttempt {
  /** Crypto ops to hand to the library for this connect. */
  ops: ClientCryptoOps | undefined;
  /** Call on success with the library connection (before it closes). */
  succeeded(conn: QUICConnection): void;
  /** Call on failure; `dropSession` forgets any offered session. */
  failed(dropSession: boolean): void;
}

/**
 * A transport's client-side sessions, in memory: the latest session per
 * server (host, port, pinned key), at most {@link MAX_STORED_SESSIONS},
 * least recently used dropped. A session is only offered to a connect
 * that pins the same key (or none, if it was stored without one): a
 * resumed handshake skips the certificate exchange, although the library
 * still checks the certificate remembered in the session.
 */
export class SessionStore {
  private readonly sessions = new LruMap<string, Uint8Array>(
    MAX_STORED_SESSIONS,
  );

  constructor(
    private readonly hooks: NativeHooks,
    private readonly log: Logger,
  ) {}

  /** Number of servers with a stored session. */
  get size(): number {
    return this.sessions.size;
  }

  /** Prepares one connect to `server`. */
  begin(server: SessionServer): ResumeAttempt {
    const key = storeKey(server);
    const session = this.sessions.get(key);
    const offer = session ? this.hooks.offer(session) : undefined;
    return {
      ops: offer?.ops,
      succeeded: (conn) => {
        offer?.done();
        this.keepLatest(key, conn);
        void conn.closedP.then(() => this.keepLatest(key, conn));
      },
      failed: (dropSession) => {
        offer?.done();
        if (offer && dropSession) this.sessions.delete(key);
      },
    };
  }

  private keepLatest(key: string, conn: QUICConnection): void {
    const session = sessionOf(conn);
    if (!session) return;
    this.sessions.set(key, session);
    this.log.debug({ bytes: session.byteLength }, 'session stored');
  }
}

function storeKey(s: SessionServer): string {
  const pin = s.expectedServerKey ? keyText(s.expectedServerKey) : '-';
  return `${s.host}:${s.port}/${pin}`;
}
