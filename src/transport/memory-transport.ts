/**
 * The in-memory transport: the Transport interface without sockets, for
 * tests of the layers above. Streams go through the same FrameStream and
 * framing code as QUIC; identities are checked the same way (pinning,
 * required client keys); closing one end closes the other. Addresses are
 * fake but unique within the process.
 */
import { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../common/index.ts';
import { DEFAULT_MAX_FRAME_BYTES } from '../wire/index.ts';
import {
  BaseConnection,
  streamSlotsFor,
  type ConnectionSettings,
} from './connection-base.ts';
import { ConnectError, ListenError, PeerKeyMismatchError } from './errors.ts';
import type { StreamChannel } from './frame-stream.ts';
import { memoryChannelPair } from './memory-pipe.ts';
import { createTransportMetrics, type TransportMetrics } from './metrics.ts';
import { keyText, sameKey } from './tls.ts';
import type {
  ConnectOptions,
  Connection,
  ListenOptions,
  Listener,
  Transport,
} from './types.ts';

/** Options of {@link createMemoryTransport}; all optional. */
export interface MemoryTransportOptions {
  logger?: Logger;
  registry?: Registry;
  /** Peer stream limit emulated, as `maxStreams` of QUIC; default 256. */
  maxStreams?: number;
  /** As the QUIC transport's `streamLingerMs`; default 30 000. */
  streamLingerMs?: number;
  /** As the QUIC transport's `streamFinGraceMs`; default 5 000. */
  streamFinGraceMs?: number;
}

interface Bound {
  options: ListenOptions;
  port: number;
  transport: MemoryTransport;
  links: Set<MemoryLink>;
}

// One address space per process, so transports made separately (one per
// router under test) can reach each other.
const bound = new Map<string, Bound>();
let nextPort = 20_000;
let nextLinkId = 1;

function allocatePort(): number {
  nextPort = nextPort >= 65_000 ? 20_000 : nextPort + 1;
  return nextPort;
}

/** One end of an in-memory connection. */
class MemoryLink extends BaseConnection {
  peer: MemoryLink | undefined;
  private nextStreamId: number;

  constructor(
    readonly id: string,
    readonly remote: { host: string; port: number },
    readonly peerPublicKey: Uint8Array | undefined,
    settings: ConnectionSettings,
  ) {
    super({ ...settings, logger: settings.logger.child({ conn: id }) });
    // Stream ids as QUIC numbers bidirectional streams: client even, server
    // odd, in steps of four.
    this.nextStreamId = settings.side === 'client' ? 0 : 1;
  }

  protected override async waitForCredit(): Promise<void> {
    // Both ends use the same slot count, so the semaphore is the limit.
  }

  protected override createChannel(): { id: number; channel: StreamChannel } {
    const id = this.nextStreamId;
    this.nextStreamId += 4;
    const [mine, theirs] = memoryChannelPair();
    const peer = this.peer;
    // Delivered on a later turn, as a datagram would be.
    setImmediate(() => {
      if (peer) peer.acceptStream(id, theirs);
      else theirs.reset('no peer');
    });
    return { id, channel: mine };
  }

  protected override shutdown(reason: string): Promise<void> {
    const peer = this.peer;
    setImmediate(() => peer?.markClosed(`peer closed: ${reason}`));
    return Promise.resolve();
  }

  /** Closes this end as the transport would (no local close call). */
  drop(reason: string): void {
    this.markClosed(reason);
  }
}

/** See the module comment. */
export class MemoryTransport implements Transport {
  readonly metrics: TransportMetrics;
  private readonly log: Logger;

  constructor(private readonly options: MemoryTransportOptions = {}) {
    this.log = (options.logger ?? silentLogger()).child({
      component: 'transport',
      kind: 'memory',
    });
    this.metrics = createTransportMetrics(options.registry ?? new Registry());
  }

  /** @inheritdoc */
  async listen(o: ListenOptions): Promise<Listener> {
    const port = o.port === 0 ? allocatePort() : o.port;
    const key = `${o.host}:${port}`;
    if (bound.has(key)) {
      throw new ListenError('cannot listen', {
        host: o.host,
        port,
        reason: 'address in use',
      });
    }
    const entry: Bound = {
      options: o,
      port,
      transport: this,
      links: new Set(),
    };
    bound.set(key, entry);
    let stopped = false;
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      bound.delete(key);
      await Promise.all(
        [...entry.links].map((link) => link.close('server stopping')),
      );
    };
    o.signal?.addEventListener('abort', () => void stop(), { once: true });
    if (o.signal?.aborted) await stop();
    return { host: o.host, port, stop };
  }

  /** @inheritdoc */
  async connect(o: ConnectOptions): Promise<Connection> {
    await new Promise((resolve) => setImmediate(resolve));
    o.signal?.throwIfAborted();
    const server = bound.get(`${o.host}:${o.port}`);
    if (!server) {
      this.metrics.connectFailures.inc({ reason: 'failed' });
      throw new ConnectError('connect failed', {
        host: o.host,
        port: o.port,
        reason: 'nothing listens there',
      });
    }
    const serverKey = server.options.identity.publicKey;
    if (o.expectedServerKey && !sameKey(serverKey, o.expectedServerKey)) {
      this.metrics.connectFailures.inc({ reason: 'peer_key' });
      throw new PeerKeyMismatchError(
        'server certificate key is not the expected one',
        { expected: keyText(o.expectedServerKey), actual: keyText(serverKey) },
      );
    }
    return this.pair(o, server);
  }

  private pair(o: ConnectOptions, server: Bound): Connection {
    const id = `mem-${nextLinkId++}`;
    const verify = server.options.verifyClient;
    const clientKey = o.identity?.publicKey;
    const accepted = !verify || (clientKey !== undefined && verify(clientKey));
    const client = new MemoryLink(
      id,
      { host: o.host, port: o.port },
      server.options.identity.publicKey,
      this.settings('client', o.maxFrameBytes),
    );
    if (!accepted) {
      // As with QUIC and TLS 1.3: the client's handshake completes, then
      // the server's refusal of its certificate closes the connection.
      setImmediate(() => client.drop('peer rejected TLS: bad certificate'));
      return client;
    }
    const link = new MemoryLink(
      id,
      { host: 'memory', port: allocatePort() },
      verify ? clientKey : undefined,
      server.transport.settings('server', server.options.maxFrameBytes),
    );
    client.peer = link;
    link.peer = client;
    server.links.add(link);
    void link.closed.then(() => server.links.delete(link));
    server.options.onConnection(link);
    return client;
  }

  /** Connection settings of this transport for one side. */
  settings(
    side: ConnectionSettings['side'],
    maxFrameBytes: number | undefined,
  ): ConnectionSettings {
    return {
      logger: this.log,
      metrics: this.metrics,
      side,
      maxFrameBytes: maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      streamSlots: streamSlotsFor(this.options.maxStreams ?? 256),
      lingerMs: this.options.streamLingerMs ?? 30_000,
      finGraceMs: this.options.streamFinGraceMs ?? 5_000,
    };
  }
}

/**
 * Creates an in-memory transport. Every memory transport in the process
 * shares one address space; port 0 picks a free fake port.
 */
export function createMemoryTransport(
  options: MemoryTransportOptions = {},
): MemoryTransport {
  return new MemoryTransport(options);
}
