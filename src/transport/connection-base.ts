/**
 * What every Connection does the same way, whatever carries it: the
 * stream-slot semaphore, the queue of peer-opened streams waiting for a
 * handler, stream bookkeeping and the single close path.
 */
import type { Logger } from '../common/index.ts';
import { ConnectionClosedError, StreamWaitQueueFullError } from './errors.ts';
import { ChannelFrameStream, type StreamChannel } from './frame-stream.ts';
import type { TransportMetrics } from './metrics.ts';
import { Semaphore } from './semaphore.ts';
import type { Connection, FrameStream } from './types.ts';

/**
 * Peer-opened streams held while no handler is set. A peer that opens
 * more before the handler appears gets the newest ones reset (counted in
 * `streams_refused_total`).
 */
export const MAX_PENDING_PEER_STREAMS = 32;

/** Callers that may wait for a stream slot at once (reject-newest). */
export const MAX_STREAM_WAITERS = 4096;

/**
 * Streams we allow ourselves to have open when the peer allows
 * `peerLimit`: a margin of 1/32 (at least 2) stays unused, so a stream
 * whose credit the peer has not yet returned never pushes us over.
 */
export function streamSlotsFor(peerLimit: number): number {
  return Math.max(1, peerLimit - Math.max(2, Math.ceil(peerLimit / 32)));
}

/** Settings shared by a transport's connections. */
export interface ConnectionSettings {
  logger: Logger;
  metrics: TransportMetrics;
  /** `client` for connections we dialled, `server` for accepted ones. */
  side: 'client' | 'server';
  maxFrameBytes: number;
  /** Streams we may have open at once (below the peer's limit). */
  streamSlots: number;
  lingerMs: number;
  finGraceMs: number;
}

/** See the module comment. */
export abstract class BaseConnection implements Connection {
  abstract readonly id: string;
  abstract readonly remote: { host: string; port: number };
  abstract readonly peerPublicKey: Uint8Array | undefined;
  readonly closed: Promise<{ reason: string }>;
  protected readonly log: Logger;
  private resolveClosed!: (value: { reason: string }) => void;
  private closeReason: string | undefined;
  private readonly slots: Semaphore;
  private readonly streams = new Set<ChannelFrameStream>();
  private readonly localStreams = new WeakSet<ChannelFrameStream>();
  private readonly pending: ChannelFrameStream[] = [];
  private handler: ((stream: FrameStream) => void) | undefined;

  constructor(protected readonly settings: ConnectionSettings) {
    this.log = settings.logger;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.slots = new Semaphore({
      permits: settings.streamSlots,
      maxWaiters: MAX_STREAM_WAITERS,
      queueFullError: () =>
        new StreamWaitQueueFullError('too many callers wait for a stream', {
          connection: this.id,
          maxWaiters: MAX_STREAM_WAITERS,
        }),
    });
    settings.metrics.connectionsOpened.inc({ side: settings.side });
    settings.metrics.connectionsOpen.inc({ side: settings.side });
  }

  /** `client` when we dialled, `server` when we accepted. */
  get side(): ConnectionSettings['side'] {
    return this.settings.side;
  }

  /** True once the connection is closed or closing. */
  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** @inheritdoc */
  async openStream(
    options: { signal?: AbortSignal } = {},
  ): Promise<FrameStream> {
    if (this.closeReason !== undefined) throw this.closedError();
    await this.slots.acquire(options.signal);
    try {
      await this.waitForCredit(options.signal);
      if (this.closeReason !== undefined) throw this.closedError();
      const { id, channel } = this.createChannel();
      const stream = this.adopt(id, channel);
      this.localStreams.add(stream);
      this.settings.metrics.streamsOpened.inc({ initiator: 'local' });
      this.log.debug({ stream: id }, 'stream opened');
      return stream;
    } catch (err) {
      this.slots.release();
      throw err;
    }
  }

  /** @inheritdoc */
  onStream(handler: (stream: FrameStream) => void): void {
    this.handler = handler;
    for (const stream of this.pending.splice(0)) this.deliver(stream);
  }

  /** @inheritdoc */
  async close(reason = 'closed locally'): Promise<void> {
    if (this.closeReason === undefined) {
      this.markClosed(reason);
      await this.shutdown(reason);
    }
    await this.closed;
  }

  /** Waits until a new stream would not exceed the peer's limit. */
  protected abstract waitForCredit(signal?: AbortSignal): Promise<void>;

  /** Opens the transport-level stream; called with a slot held. */
  protected abstract createChannel(): { id: number; channel: StreamChannel };

  /** Ends the transport-level connection after {@link markClosed}. */
  protected abstract shutdown(reason: string): Promise<void>;

  /** Registers a stream the peer opened and hands it to the handler. */
  protected acceptStream(id: number, channel: StreamChannel): void {
    if (this.closeReason !== undefined) {
      channel.reset('connection closed');
      return;
    }
    const stream = this.adopt(id, channel);
    this.settings.metrics.streamsOpened.inc({ initiator: 'peer' });
    this.log.debug({ stream: id }, 'peer opened stream');
    if (this.handler) return this.deliver(stream);
    if (this.pending.length >= MAX_PENDING_PEER_STREAMS) {
      this.settings.metrics.streamsRefused.inc();
      channel.reset('no stream handler');
      stream.terminate();
      return;
    }
    this.pending.push(stream);
  }

  /**
   * Records that the connection is over and ends every stream. Idempotent;
   * the first reason wins. Subclasses call it when the transport reports
   * the end; `close()` calls it first.
   */
  protected markClosed(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.slots.fail(this.closedError());
    for (const stream of [...this.streams]) stream.terminate();
    this.pending.length = 0;
    const { metrics, side } = this.settings;
    metrics.connectionsClosed.inc({ side });
    metrics.connectionsOpen.dec({ side });
    this.log.info({ reason }, 'link down');
    this.resolveClosed({ reason });
  }

  private adopt(id: number, channel: StreamChannel): ChannelFrameStream {
    const stream = new ChannelFrameStream(id, channel, {
      connectionId: this.id,
      maxFrameBytes: this.settings.maxFrameBytes,
      lingerMs: this.settings.lingerMs,
      finGraceMs: this.settings.finGraceMs,
      metrics: this.settings.metrics,
      logger: this.log,
      onClose: (closed) => this.forget(closed),
    });
    this.streams.add(stream);
    return stream;
  }

  private forget(stream: ChannelFrameStream): void {
    this.streams.delete(stream);
    if (this.localStreams.has(stream)) this.slots.release();
  }

  private deliver(stream: ChannelFrameStream): void {
    const handler = this.handler;
    if (!handler) return;
    try {
      handler(stream);
    } catch (err) {
      // A throwing handler is a bug above us: close the stream so it does
      // not leak, then let the error surface as the bug it is.
      void stream.close();
      throw err;
    }
  }

  private closedError(): ConnectionClosedError {
    return new ConnectionClosedError('connection is closed', {
      connection: this.id,
      reason: this.closeReason ?? 'unknown',
    });
  }
}
