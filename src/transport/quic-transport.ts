/**
 * The QUIC transport: servers and clients on @matrixai/quic with ALPN
 * `wavemq/1`, Ed25519 certificates pinned by key, and the workarounds for
 * the library's known faults (native-notes.md lists each one).
 */
import { isIPv4 } from 'node:net';
import {
  QUICClient,
  QUICServer,
  errors as quicErrors,
  events as quicEvents,
  native as quicNative,
  type QUICConnection,
  type TLSVerifyCallback,
} from '@matrixai/quic';
import QuicLogger, { Handler, LogLevel } from '@matrixai/logger';
import { Registry } from 'prom-client';
import { errorMessage, type Logger } from '../common/index.ts';
import { streamSlotsFor, type ConnectionSettings } from './connection-base.ts';
import { ConnectError, ListenError, PeerKeyMismatchError } from './errors.ts';
import { guardDatagrams } from './datagram-guard.ts';
import { listenReason } from './listen-reason.ts';
import { registerFaultSink, type FaultSink } from './fault-guard.ts';
import { createTransportMetrics, type TransportMetrics } from './metrics.ts';
import { QuicLink, closeReasonOf } from './quic-connection.ts';
import {
  baseQuicConfig,
  clientCryptoOps,
  resolveQuicOptions,
  serverCrypto,
  type QuicTransportOptions,
  type ResolvedQuicOptions,
} from './quic-options.ts';
import { QuicListener } from './quic-listener.ts';
import { installNativeHooks, type NativeHooks } from './native-hooks.ts';
import {
  SessionStore,
  TICKET_KEY_BYTES,
  identityTicketKey,
  type ResumeAttempt,
} from './session-resumption.ts';
import { ed25519KeyOfCert, keyText, sameKey } from './tls.ts';
import type {
  ConnectOptions,
  Connection,
  ListenOptions,
  Listener,
  Transport,
} from './types.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../wire/index.ts';

/** Closed links whose late library faults are still recognised. */
const MAX_DEAD_SEND_IDS = 1024;
/** At most one log line per this long about dropped datagrams, ms. */
const BAD_DATAGRAM_LOG_INTERVAL_MS = 10_000;

/** Forwards the library's own log lines to our logger at debug level. */
class LibraryLogHandler extends Handler {
  constructor(private readonly logger: Logger) {
    super();
  }
  override emit(output: string): void {
    this.logger.debug({ library: output }, 'quic library log');
  }
}

/** A QUIC transport with its metrics; see {@link createQuicTransport}. */
export class QuicTransport implements Transport, FaultSink {
  /** The transport's metrics (on the registry given, or a private one). */
  readonly metrics: TransportMetrics;
  private readonly options: ResolvedQuicOptions;
  private readonly log: Logger;
  private readonly libraryLogger: QuicLogger;
  private readonly links = new Set<QuicLink>();
  /**
   * Send ids of links we already closed. Tearing a broken connection down
   * can fail again the same way; those repeats are still ours to absorb.
   * Bounded: the oldest is forgotten past MAX_DEAD_SEND_IDS.
   */
  private readonly deadSendIds = new Set<string>();
  /** Native hooks: unset until needed, null when unavailable. */
  private hooks: NativeHooks | null | undefined;
  private readonly sessions: SessionStore | undefined;

  constructor(options: QuicTransportOptions) {
    this.options = resolveQuicOptions(options);
    this.log = options.logger.child({ component: 'transport' });
    this.metrics = createTransportMetrics(options.registry ?? new Registry());
    this.libraryLogger = new QuicLogger('quic', LogLevel.WARN, [
      new LibraryLogHandler(this.log),
    ]);
    registerFaultSink(this);
    const hooks = this.options.resumeSessions ? this.nativeHooks() : undefined;
    if (hooks) this.sessions = new SessionStore(hooks, this.log);
  }

  /** @inheritdoc */
  async listen(o: ListenOptions): Promise<Listener> {
    if (o.ticketKey && o.ticketKey.byteLength !== TICKET_KEY_BYTES) {
      throw new RangeError(`ticketKey must be ${TICKET_KEY_BYTES} bytes`);
    }
    const server = new QUICServer({
      crypto: serverCrypto(),
      config: {
        ...baseQuicConfig(this.options),
        key: o.identity.keyPem,
        cert: o.identity.certPem,
        verifyPeer: o.verifyClient !== undefined,
        ...(o.verifyClient && {
          verifyCallback: clientVerifier(o.verifyClient),
        }),
      },
      logger: this.libraryLogger.getChild('server'),
    });
    this.guardSocket((server as unknown as { socket: unknown }).socket);
    const undo: (() => void)[] = [];
    const listener = new QuicListener(server, this.log, () => {
      for (const f of undo) f();
    });
    server.addEventListener(
      quicEvents.EventQUICServerConnection.name,
      (evt: Event) => {
        const conn = (evt as quicEvents.EventQUICServerConnection).detail;
        const link = this.track(conn, 'server', o.maxFrameBytes);
        listener.add(link);
        o.onConnection(link);
      },
    );
    try {
      await server.start({ host: o.host, port: o.port });
    } catch (err) {
      const reason = await listenReason(err, o.host, o.port);
      throw new ListenError(
        `cannot listen on ${o.host}:${o.port}: ${reason}`,
        { host: o.host, port: o.port, reason },
        { cause: err },
      );
    }
    const hooks = this.nativeHooks();
    if (hooks) {
      undo.push(
        hooks.serve(server.host, server.port, {
          ticketKey:
            o.ticketKey && identityTicketKey(o.ticketKey, o.identity.publicKey),
        }),
      );
    }
    listener.started(o.signal);
    return listener;
  }

  /** @inheritdoc */
  async connect(o: ConnectOptions): Promise<Connection> {
    const pin: PinState = {};
    const attempt = this.sessions?.begin(o);
    let client: QUICClient;
    try {
      client = await QUICClient.createQUICClient(
        {
          host: o.host,
          port: o.port,
          localHost: isIPv4(o.host) ? '0.0.0.0' : '::',
          crypto: { ops: attempt?.ops ?? clientCryptoOps },
          config: this.clientConfig(o, pin),
          logger: this.libraryLogger.getChild('client'),
        },
        {
          timer: o.timeoutMs ?? this.options.connectTimeoutMs,
          ...(o.signal && { signal: o.signal }),
        },
      );
    } catch (err) {
      throw this.connectFailure(o, pin, err, attempt);
    }
    attempt?.succeeded(client.connection);
    return this.track(client.connection, 'client', o.maxFrameBytes, client);
  }

  /** @inheritdoc */
  claim(err: Error): boolean {
    const id = sendIdOf(err);
    if (id === undefined) return false;
    if (this.deadSendIds.has(id)) {
      this.metrics.libraryFaults.inc({ attributed: 'yes' });
      this.log.debug({ name: err.name }, 'QUIC library fault on closed link');
      return true;
    }
    for (const link of this.links) {
      if (link.sendId !== id) continue;
      this.metrics.libraryFaults.inc({ attributed: 'yes' });
      this.log.error(
        { conn: link.id, err: errorMessage(err), name: err.name },
        'QUIC library fault; closing the connection',
      );
      link.abort(`library fault: ${err.name}`);
      return true;
    }
    return false;
  }

  /** @inheritdoc */
  handleUnattributed(err: Error): void {
    const fields = { err: errorMessage(err), name: err.name };
    if (isShutdownRace(err)) {
      // A datagram that arrives while a server or socket stops makes the
      // library throw "not running" from its receive handler. Harmless.
      this.metrics.libraryFaults.inc({ attributed: 'shutdown_race' });
      this.log.debug(fields, 'QUIC library refused work while stopping');
      return;
    }
    this.metrics.libraryFaults.inc({ attributed: 'no' });
    if (!isClientSideError(err)) {
      this.log.error(fields, 'QUIC library fault outside any connection');
      return;
    }
    this.log.error(fields, 'QUIC library fault; closing client connections');
    for (const link of this.links) {
      if (link.side === 'client') link.abort(`library fault: ${err.name}`);
    }
  }

  /**
   * Drops datagrams the library fails on outside any connection, counting
   * and logging them (rate-limited), instead of letting them end the
   * process; see `datagram-guard.ts`.
   */
  private guardSocket(socket: unknown): void {
    let lastLogMs = -Infinity;
    let unlogged = 0;
    const problem = guardDatagrams(socket, (err, remote) => {
      this.metrics.badDatagrams.inc();
      const now = performance.now();
      if (now - lastLogMs < BAD_DATAGRAM_LOG_INTERVAL_MS) {
        unlogged += 1;
        return;
      }
      this.log.warn(
        { remote, err: errorMessage(err), alsoDropped: unlogged },
        'dropped a datagram the QUIC library could not handle',
      );
      lastLogMs = now;
      unlogged = 0;
    });
    if (problem) {
      this.log.warn({ problem }, 'malformed datagrams are not guarded');
    }
  }

  /** Installs the native hooks once; warns if they cannot be. */
  private nativeHooks(): NativeHooks | undefined {
    if (this.hooks === undefined) {
      const hooks = installNativeHooks();
      this.hooks = typeof hooks === 'string' ? null : hooks;
      if (typeof hooks === 'string') {
        this.log.warn(
          { problem: hooks },
          'QUIC native hooks unavailable: TLS session resumption off, ' +
            'one NAT rebinding per connection followed',
        );
      }
    }
    return this.hooks ?? undefined;
  }

  private clientConfig(o: ConnectOptions, pin: PinState) {
    return {
      ...baseQuicConfig(this.options),
      // verifyPeer with our own callback: the server is checked by key,
      // not by CA chain or host name.
      verifyPeer: true,
      verifyCallback: serverVerifier(o.expectedServerKey, pin),
      ...(o.identity && { key: o.identity.keyPem, cert: o.identity.certPem }),
    };
  }

  private connectFailure(
    o: ConnectOptions,
    pin: PinState,
    err: unknown,
    attempt: ResumeAttempt | undefined,
  ) {
    // Only a refused handshake can be the session's fault; a server that
    // is down or slow says nothing about it.
    attempt?.failed(
      pin.mismatch !== undefined ||
        err instanceof quicErrors.ErrorQUICConnectionLocalTLS ||
        err instanceof quicErrors.ErrorQUICConnectionPeerTLS,
    );
    const timedOut =
      err instanceof quicErrors.ErrorQUICClientCreateTimeout ||
      err instanceof quicErrors.ErrorQUICConnectionStartTimeout;
    if (o.signal?.aborted) return o.signal.reason as unknown;
    if (pin.mismatch) {
      this.metrics.connectFailures.inc({ reason: 'peer_key' });
      return new PeerKeyMismatchError(
        'server certificate key is not the expected one',
        pin.mismatch,
        { cause: err },
      );
    }
    const reason = timedOut ? 'timeout' : 'failed';
    this.metrics.connectFailures.inc({ reason });
    return new ConnectError(
      `cannot reach ${o.host}:${o.port} ` +
        (timedOut
          ? '(no answer: is a router running there?)'
          : `(${closeReasonOf(err)})`),
      {
        host: o.host,
        port: o.port,
        reason: timedOut ? 'timeout' : closeReasonOf(err),
      },
      { cause: err },
    );
  }

  private track(
    conn: QUICConnection,
    side: ConnectionSettings['side'],
    maxFrameBytes: number | undefined,
    client?: QUICClient,
  ): QuicLink {
    const link = new QuicLink(
      conn,
      {
        logger: this.log,
        metrics: this.metrics,
        side,
        maxFrameBytes: maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
        streamSlots: streamSlotsFor(this.options.maxStreams),
        lingerMs: this.options.streamLingerMs,
        finGraceMs: this.options.streamFinGraceMs,
      },
      client,
    );
    this.links.add(link);
    this.metrics.handshakes.inc({ side, resumed: link.resumed ? 'yes' : 'no' });
    void link.closed.then(() => {
      this.links.delete(link);
      this.deadSendIds.add(link.sendId);
      if (this.deadSendIds.size > MAX_DEAD_SEND_IDS) {
        const [oldest] = this.deadSendIds;
        if (oldest !== undefined) this.deadSendIds.delete(oldest);
      }
    });
    return link;
  }
}

/** What a client's certificate check found, for the connect error. */
interface PinState {
  mismatch?: { expected: string; actual: string };
}

const BAD_CERTIFICATE = quicNative.CryptoError.BadCertificate;

function serverVerifier(
  expected: Uint8Array | undefined,
  pin: PinState,
): TLSVerifyCallback {
  return (certs) => {
    if (!expected) return Promise.resolve(undefined);
    const leaf = certs[0];
    const actual = leaf ? ed25519KeyOfCert(leaf) : undefined;
    if (actual && sameKey(actual, expected)) return Promise.resolve(undefined);
    pin.mismatch = { expected: keyText(expected), actual: keyText(actual) };
    return Promise.resolve(BAD_CERTIFICATE);
  };
}

function clientVerifier(
  verify: (peerPublicKey: Uint8Array) => boolean,
): TLSVerifyCallback {
  return (certs) => {
    const leaf = certs[0];
    const key = leaf ? ed25519KeyOfCert(leaf) : undefined;
    let accepted: boolean;
    try {
      accepted = key !== undefined && verify(key);
    } catch {
      // A throwing check is a refusal; the handshake must not hang on it.
      accepted = false;
    }
    return Promise.resolve(accepted ? undefined : BAD_CERTIFICATE);
  };
}

/** The library's "not running" errors raised while something stops. */
function isShutdownRace(err: Error): boolean {
  return (
    err instanceof quicErrors.ErrorQUICServerNotRunning ||
    err instanceof quicErrors.ErrorQUICSocketNotRunning ||
    err instanceof quicErrors.ErrorQUICConnectionNotRunning
  );
}

/**
 * Errors of client, connection or stream code (by class, or by name when
 * the class comes from another copy of the library). Server and socket
 * errors without a connection leave client links alone.
 */
function isClientSideError(err: Error): boolean {
  if (
    err instanceof quicErrors.ErrorQUICServer ||
    err instanceof quicErrors.ErrorQUICSocket
  ) {
    return false;
  }
  return !/^ErrorQUIC(Server|Socket)/.test(err.name);
}

/** The connection send id the library puts in a failed send's data. */
function sendIdOf(err: Error): string | undefined {
  const data = (err as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return undefined;
  const id = (data as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Creates the QUIC transport. Installs the process guard against library
 * faults (see fault-guard.ts) on first use.
 * @throws RangeError for an option out of range (keepAliveMs must be
 *   below idleTimeoutMs).
 */
export function createQuicTransport(
  options: QuicTransportOptions,
): QuicTransport {
  return new QuicTransport(options);
}
