/**
 * TLS session resumption for QUIC links. @matrixai/quic 2.0.9 has no
 * session API, but its native quiche connection can take a saved session
 * (`setSession`) and a server config can take a fixed ticket key
 * (`setTicketKey`). The library builds both inside its connection
 * constructor, so we shadow the two native constructors it calls
 * (`Connection.connect` and `Connection.accept`) with wrappers that add
 * those calls and nothing else. No stream data is written natively: a
 * resumed link is an ordinary link whose handshake skipped the
 * certificate exchange. native-notes.md says what this does and does not
 * save.
 *
 * If the library's internals are not shaped as expected, nothing is
 * installed, the transport logs one warning and every handshake is full.
 */
import { randomFillSync } from 'node:crypto';
import {
  native as quicNative,
  type ClientCryptoOps,
  type QUICConnection,
} from '@matrixai/quic';
import { LruMap, errorMessage, type Logger } from '../common/index.ts';
import { keyText } from './tls.ts';

/** Bytes of a session ticket key, as quiche (BoringSSL) requires. */
export const TICKET_KEY_BYTES = 48;
/** Servers whose latest session one transport keeps; oldest dropped. */
export const MAX_STORED_SESSIONS = 256;

/** What we use of the native quiche connection. */
interface NativeConnection {
  setSession(session: Uint8Array): void;
  session(): Uint8Array | null;
  isResumed(): boolean;
}

/** What we use of the native quiche config. */
interface NativeConfig {
  setTicketKey(key: Uint8Array): void;
}

interface HostPort {
  host: string;
  port: number;
}

/** The native constructor statics the library calls. */
interface ConnectionStatics {
  connect(
    serverName: string | null,
    scid: Uint8Array,
    local: HostPort,
    remote: HostPort,
    config: NativeConfig,
  ): NativeConnection;
  accept(
    scid: Uint8Array,
    dcid: Uint8Array | null,
    local: HostPort,
    remote: HostPort,
    config: NativeConfig,
  ): NativeConnection;
}

/** Process-wide hook state; one per process even with two module copies. */
interface HookState {
  /** Ticket keys by listening address (`host:port`). */
  ticketKeys: Map<string, Uint8Array>;
  /** Sessions to offer, by client source connection id (hex). */
  offers: Map<string, Uint8Array>;
  /** The shadows installed, so a second install reuses the first. */
  shadows: WeakSet<object>;
}

const STATE_KEY = Symbol.for('wavemq.transport.session-resumption');

function hookState(): HookState {
  const g = globalThis as { [STATE_KEY]?: HookState };
  g[STATE_KEY] ??= {
    ticketKeys: new Map(),
    offers: new Map(),
    shadows: new WeakSet(),
  };
  return g[STATE_KEY];
}

const addressKey = (a: HostPort): string => `${a.host}:${a.port}`;
const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Property names that must be functions on `target`. */
function lacks(target: unknown, names: string[]): string | undefined {
  const o = target as Record<string, unknown> | undefined;
  return names.find((n) => typeof o?.[n] !== 'function');
}

/**
 * Why the library's native layer cannot be hooked, or undefined when it
 * can. `binding` is the native module object (`native.quiche`).
 */
export function resumptionProblem(binding: unknown): string | undefined {
  const b = binding as { Connection?: unknown; Config?: unknown } | undefined;
  const statics = b?.Connection as { prototype?: unknown } | undefined;
  const missingStatic = lacks(statics, ['connect', 'accept']);
  if (missingStatic) return `native Connection.${missingStatic} not found`;
  const conn = lacks(statics?.prototype, [
    'setSession',
    'session',
    'isResumed',
  ]);
  if (conn) return `native Connection#${conn} not found`;
  const cfg = (b?.Config as { prototype?: unknown } | undefined)?.prototype;
  if (lacks(cfg, ['setTicketKey']))
    return 'native Config#setTicketKey not found';
  const d = Object.getOwnPropertyDescriptor(b, 'Connection');
  if (!d || !(d.writable ?? d.configurable)) {
    return 'native Connection cannot be replaced';
  }
  return undefined;
}

/** Wrappers around the original statics that add our two calls. */
function makeShadow(orig: ConnectionStatics, state: HookState): object {
  const connect: ConnectionStatics['connect'] = (...args) => {
    const conn = orig.connect(...args);
    const session = state.offers.get(hex(args[1]));
    if (session) {
      try {
        conn.setSession(session);
      } catch (err) {
        // A session quiche cannot parse: this handshake is simply full.
        void err;
      }
    }
    return conn;
  };
  const accept: ConnectionStatics['accept'] = (...args) => {
    const key = state.ticketKeys.get(addressKey(args[2]));
    try {
      if (key) args[4].setTicketKey(key);
    } catch (err) {
      // Refused key: this connection issues tickets under a random key,
      // which only costs the next client a full handshake.
      void err;
    }
    return orig.accept(...args);
  };
  return Object.create(orig, {
    connect: { value: connect },
    accept: { value: accept },
  }) as object;
}

/** The hooks a transport uses once they are installed. */
export interface ResumptionHooks {
  /**
   * Makes connections accepted at `host:port` use `ticketKey`; returns
   * the undo. A later call for the same address replaces the key.
   */
  serveTickets(host: string, port: number, ticketKey: Uint8Array): () => void;
  /**
   * Crypto ops for one connect that offer `session` to the connection
   * they seed; call `done()` once the connect settled.
   */
  offer(session: Uint8Array): { ops: ClientCryptoOps; done(): void };
}

/**
 * Installs the native hooks once per process and returns them, or the
 * reason they cannot be installed. `binding` defaults to the library's.
 */
export function installResumptionHooks(
  binding: unknown = quicNative.quiche,
): ResumptionHooks | string {
  const state = hookState();
  const b = binding as { Connection: ConnectionStatics };
  if (!state.shadows.has(b.Connection)) {
    const problem = resumptionProblem(binding);
    if (problem) return problem;
    const shadow = makeShadow(b.Connection, state);
    try {
      b.Connection = shadow as ConnectionStatics;
    } catch (err) {
      return `native Connection cannot be replaced: ${errorMessage(err)}`;
    }
    if (b.Connection !== shadow) return 'native Connection did not change';
    state.shadows.add(shadow);
  }
  return hooksOver(state);
}

function hooksOver(state: HookState): ResumptionHooks {
  return {
    serveTickets(host, port, ticketKey) {
      const key = addressKey({ host, port });
      const copy = Uint8Array.from(ticketKey);
      state.ticketKeys.set(key, copy);
      return () => {
        if (state.ticketKeys.get(key) === copy) state.ticketKeys.delete(key);
      };
    },
    offer(session) {
      const ids: string[] = [];
      const ops: ClientCryptoOps = {
        randomBytes: (data: ArrayBuffer): Promise<void> => {
          const bytes = randomFillSync(new Uint8Array(data));
          ids.push(hex(bytes));
          state.offers.set(hex(bytes), session);
          return Promise.resolve();
        },
      };
      const done = (): void => {
        for (const id of ids) state.offers.delete(id);
      };
      return { ops, done };
    },
  };
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
    private readonly hooks: ResumptionHooks,
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
