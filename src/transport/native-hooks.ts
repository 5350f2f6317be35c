/**
 * Hooks into the native layer of @matrixai/quic 2.0.9, for two settings
 * its public API does not reach:
 *
 * - TLS session resumption: a saved session on a client connection
 *   (`setSession`) and a fixed ticket key on a server config
 *   (`setTicketKey`);
 * - how many network paths an accepted connection may hold
 *   (`setActiveConnectionIdLimit`), which bounds how many NAT rebindings
 *   of one peer the server can follow.
 *
 * The library builds the native config and connection inside its own
 * connection constructor, by calling `Connection.connect` and
 * `Connection.accept` of its binding. We shadow those two statics with
 * wrappers that add the calls above and nothing else: no stream data is
 * ever written natively. native-notes.md says what each setting does.
 *
 * If the library's internals are not shaped as expected, nothing is
 * installed and the transport runs with the library's behaviour.
 */
import { randomFillSync } from 'node:crypto';
import { native as quicNative, type ClientCryptoOps } from '@matrixai/quic';
import { errorMessage } from '../common/index.ts';

/**
 * Paths one accepted connection may hold. quiche keeps one path per
 * address it has seen the peer at and frees none of them while the
 * connection lives (each keeps the peer's only connection id, since
 * the library never issues spare ones), and it drops packets from a new
 * address once its table is full. The table's size is the
 * connection-id limit we announce, 2 by default: the server then
 * follows one NAT rebinding and no more. 64 follows 63 rebindings of a
 * connection, hours of a carrier NAT that remaps every few minutes; each
 * path costs its own loss-recovery state. After that the link idles out
 * and the layer above makes it again.
 */
export const MAX_PEER_PATHS = 64;

/** What we use of the native quiche connection. */
export interface NativeConnection {
  setSession(session: Uint8Array): void;
  session(): Uint8Array | null;
  isResumed(): boolean;
}

/** What we use of the native quiche config. */
interface NativeConfig {
  setTicketKey(key: Uint8Array): void;
  setActiveConnectionIdLimit(limit: number): void;
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

/** Settings for the connections accepted at one listening address. */
export interface AcceptSettings {
  /** 48-byte ticket key; without one, tickets cannot be redeemed. */
  ticketKey?: Uint8Array | undefined;
  /** Paths a connection may hold; default {@link MAX_PEER_PATHS}. */
  maxPaths?: number;
}

/** Accept settings as kept: an empty ticket key stands for none. */
interface ListenerSettings {
  ticketKey: Uint8Array;
  maxPaths: number;
}

/** Process-wide hook state; one per process even with two module copies. */
interface HookState {
  /** Accept settings by listening address (`host:port`). */
  listeners: Map<string, ListenerSettings>;
  /** Sessions to offer, by client source connection id (hex). */
  offers: Map<string, Uint8Array>;
  /** The shadows installed, so a second install reuses the first. */
  shadows: WeakSet<object>;
}

const STATE_KEY = Symbol.for('wavemq.transport.native-hooks');

function hookState(): HookState {
  const g = globalThis as { [STATE_KEY]?: HookState };
  g[STATE_KEY] ??= {
    listeners: new Map(),
    offers: new Map(),
    shadows: new WeakSet(),
  };
  return g[STATE_KEY];
}

const addressKey = (a: HostPort): string => `${a.host}:${a.port}`;
const hex = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Property names that must be functions on `target`, first missing. */
export function lacks(target: unknown, names: string[]): string | undefined {
  const o = target as Record<string, unknown> | undefined;
  return names.find((n) => typeof o?.[n] !== 'function');
}

/**
 * Why the library's native layer cannot be hooked, or undefined when it
 * can. `binding` is the native module object (`native.quiche`).
 */
export function nativeHooksProblem(binding: unknown): string | undefined {
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
  const config = lacks(cfg, ['setTicketKey', 'setActiveConnectionIdLimit']);
  if (config) return `native Config#${config} not found`;
  const d = Object.getOwnPropertyDescriptor(b, 'Connection');
  if (!d || !(d.writable ?? d.configurable)) {
    return 'native Connection cannot be replaced';
  }
  return undefined;
}

/** Applies a listener's settings to the config of a connection. */
function configure(config: NativeConfig, s: ListenerSettings): void {
  try {
    config.setActiveConnectionIdLimit(s.maxPaths);
  } catch (err) {
    // Refused limit: the connection follows one rebinding, as without us.
    void err;
  }
  if (s.ticketKey.byteLength === 0) return;
  try {
    config.setTicketKey(s.ticketKey);
  } catch (err) {
    // Refused key: this connection issues tickets under a random key,
    // which only costs the next client a full handshake.
    void err;
  }
}

/** Wrappers around the original statics that add our calls. */
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
    const settings = state.listeners.get(addressKey(args[2]));
    if (settings) configure(args[4], settings);
    return orig.accept(...args);
  };
  return Object.create(orig, {
    connect: { value: connect },
    accept: { value: accept },
  }) as object;
}

/** The hooks a transport uses once they are installed. */
export interface NativeHooks {
  /**
   * Applies `settings` to connections accepted at `host:port`; returns
   * the undo. A later call for the same address replaces the settings.
   */
  serve(host: string, port: number, settings: AcceptSettings): () => void;
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
export function installNativeHooks(
  binding: unknown = quicNative.quiche,
): NativeHooks | string {
  const state = hookState();
  const b = binding as { Connection: ConnectionStatics };
  if (!state.shadows.has(b.Connection)) {
    const problem = nativeHooksProblem(binding);
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

function hooksOver(state: HookState): NativeHooks {
  return {
    serve(host, port, settings) {
      const key = addressKey({ host, port });
      const entry: ListenerSettings = {
        ticketKey: Uint8Array.from(settings.ticketKey ?? []),
        maxPaths: settings.maxPaths ?? MAX_PEER_PATHS,
      };
      state.listeners.set(key, entry);
      return () => {
        if (state.listeners.get(key) === entry) state.listeners.delete(key);
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
