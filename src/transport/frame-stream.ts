/**
 * A FrameStream over any pair of web byte streams. QUIC and the in-memory
 * transport both build their streams from this class, so framing, limits
 * and close behaviour are the same code for both.
 *
 * Close rules, chosen because @matrixai/quic can lose a stream's FIN:
 * - `close()` frees the stream's slot at once, then ends our side
 *   gracefully (FIN after queued data, STOP_SENDING to the peer). If the
 *   transport has not released the stream `lingerMs` later, it is reset.
 * - The peer stopping its reading (its `close()`) is noticed without FIN.
 *   From then, once our reader has been idle for `finGraceMs` with no FIN,
 *   the read side is treated as ended, so `frames()` cannot hang.
 * - The stream counts as closed once the read side has ended and the peer
 *   no longer reads, or on `close()`, or when the connection goes.
 */
import type { Logger } from '../common/index.ts';
import { InvariantError, errorMessage } from '../common/index.ts';
import {
  FrameDecoder,
  FrameTooLargeError,
  encodeFrames,
} from '../wire/index.ts';
import { StreamClosedError } from './errors.ts';
import type { TransportMetrics } from './metrics.ts';
import type { FrameStream } from './types.ts';

/**
 * Key of a method that writes raw bytes, bypassing framing. Not exported
 * from the folder's index: it exists so tests can play a peer that sends
 * garbage.
 */
export const WRITE_RAW: unique symbol = Symbol('writeRaw');

/** Markers of how a read side ended. */
const FIN: unique symbol = Symbol('fin');
const RESET: unique symbol = Symbol('reset');

/** The byte-level stream a transport hands to {@link ChannelFrameStream}. */
export interface StreamChannel {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves when the peer has stopped reading this stream. */
  readonly peerStopped: Promise<void>;
  /** Resolves when the transport has released the stream entirely. */
  readonly released: Promise<void>;
  /** Tears both directions down at once; never throws. */
  reset(reason: string): void;
}

/** What a stream needs from its connection. */
export interface StreamContext {
  connectionId: string;
  maxFrameBytes: number;
  /** How long a closed stream may take to be released before a reset. */
  lingerMs: number;
  /** Idle read time after the peer stopped reading before we stop too. */
  finGraceMs: number;
  metrics: TransportMetrics;
  logger: Logger;
  /** Called exactly once, when the stream closes. */
  onClose: (stream: ChannelFrameStream) => void;
}

/** See the module comment. */
export class ChannelFrameStream implements FrameStream {
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private isClosed = false;
  private iterated = false;
  private readEnded = false;
  private peerGone = false;
  private readPending = false;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    private readonly channel: StreamChannel,
    private readonly ctx: StreamContext,
  ) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    this.writer = channel.writable.getWriter();
    // The writer's own promise is not how we learn about failures (writes
    // reject and peerStopped resolves); mark it observed.
    this.writer.closed.catch(() => undefined);
    void channel.peerStopped.then(() => this.onPeerStopped());
  }

  /** @inheritdoc */
  send(frame: unknown): Promise<void> {
    return this.sendMany([frame]);
  }

  /** @inheritdoc */
  async sendMany(frames: unknown[]): Promise<void> {
    if (this.isClosed || this.peerGone) throw this.closedError();
    if (frames.length === 0) return;
    const bytes = encodeFrames(frames, {
      maxFrameBytes: this.ctx.maxFrameBytes,
    });
    try {
      await this.writer.write(bytes);
    } catch (err) {
      throw this.closedError(err);
    }
    this.ctx.metrics.framesOut.inc(frames.length);
    this.ctx.metrics.bytesOut.inc(bytes.byteLength);
  }

  /** Writes `bytes` as they are; see {@link WRITE_RAW}. */
  async [WRITE_RAW](bytes: Uint8Array): Promise<void> {
    if (this.isClosed) throw this.closedError();
    await this.writer.write(bytes);
  }

  /** @inheritdoc */
  frames(): AsyncIterable<unknown> {
    if (this.iterated) {
      throw new InvariantError('frames() may be iterated once', {
        connection: this.ctx.connectionId,
        stream: this.id,
      });
    }
    this.iterated = true;
    return { [Symbol.asyncIterator]: () => this.read() };
  }

  /** @inheritdoc */
  close(): Promise<void> {
    if (this.isClosed) return this.closed;
    this.finish();
    // Graceful end: FIN after whatever is queued. A failure only means the
    // peer or connection is already gone, which close() accepts.
    this.writer.close().catch(() => undefined);
    this.stopReading();
    const linger = setTimeout(() => {
      this.channel.reset('stream not released after close');
    }, this.ctx.lingerMs);
    linger.unref();
    void this.channel.released.then(() => clearTimeout(linger));
    return this.closed;
  }

  /** Closes at once because the connection is gone; sends nothing. */
  terminate(): void {
    if (this.isClosed) return;
    this.finish();
    this.stopReading();
  }

  private finish(): void {
    this.isClosed = true;
    clearTimeout(this.graceTimer);
    this.ctx.metrics.streamsClosed.inc();
    this.ctx.onClose(this);
    this.resolveClosed();
  }

  private async *read(): AsyncGenerator<unknown, void, undefined> {
    if (this.isClosed || this.readEnded) return;
    const reader = this.channel.readable.getReader();
    this.reader = reader;
    const decoder = new FrameDecoder({
      maxFrameBytes: this.ctx.maxFrameBytes,
    });
    try {
      for (;;) {
        const chunk = await this.nextChunk(reader);
        if (chunk === RESET) return;
        if (chunk === FIN) {
          // A clean end of the byte stream must not cut a frame in half;
          // an end forced by close or the grace timer never checks that.
          if (!this.isClosed && !this.readEnded) this.endDecoder(decoder);
          return;
        }
        this.ctx.metrics.bytesIn.inc(chunk.byteLength);
        const frames = this.decode(decoder, chunk);
        for (const frame of frames) {
          this.ctx.metrics.framesIn.inc();
          yield frame;
        }
        if (decoder.error) this.endDecoder(decoder);
      }
    } finally {
      this.endRead();
    }
  }

  /**
   * The next chunk; FIN when the byte stream ended cleanly; RESET when it
   * was cut (peer reset, connection death), where a partial frame is the
   * network's doing, not bad input.
   */
  private async nextChunk(
    reader: ReadableStreamDefaultReader<Uint8Array>,
  ): Promise<Uint8Array | typeof FIN | typeof RESET> {
    this.readPending = true;
    try {
      const result = await reader.read();
      return result.done ? FIN : result.value;
    } catch (err) {
      // The contract is that frames() simply ends; the connection reports
      // why it went, if it did.
      this.ctx.logger.debug(
        { stream: this.id, err: errorMessage(err) },
        'stream read ended by error',
      );
      return RESET;
    } finally {
      this.readPending = false;
      if (this.peerGone) this.armGrace();
    }
  }

  private endDecoder(decoder: FrameDecoder): void {
    this.decode(decoder, undefined);
  }

  /** Pushes `chunk` (or ends the input), counting decode errors. */
  private decode(
    decoder: FrameDecoder,
    chunk: Uint8Array | undefined,
  ): unknown[] {
    try {
      if (chunk) return decoder.push(chunk);
      decoder.end();
      return [];
    } catch (err) {
      const kind =
        err instanceof FrameTooLargeError ? 'too_large' : 'malformed';
      this.ctx.metrics.decodeErrors.inc({ kind });
      this.ctx.logger.debug(
        { stream: this.id, kind, err: errorMessage(err) },
        'bad frame on stream',
      );
      throw err;
    }
  }

  private endRead(): void {
    if (this.readEnded) return;
    this.readEnded = true;
    this.stopReading();
    this.closeIfDone();
  }

  private stopReading(): void {
    const cancel = this.reader
      ? this.reader.cancel('stream closed')
      : this.channel.readable.cancel('stream closed');
    // Cancelling fails only when the read side already ended or errored,
    // which is the state we want.
    cancel.catch(() => undefined);
  }

  private onPeerStopped(): void {
    this.peerGone = true;
    if (this.isClosed) return;
    this.ctx.logger.debug({ stream: this.id }, 'peer stopped reading');
    this.armGrace();
    this.closeIfDone();
  }

  /** Starts (or restarts) the wait for FIN after the peer stopped. */
  private armGrace(): void {
    if (this.isClosed || this.readEnded) return;
    clearTimeout(this.graceTimer);
    this.graceTimer = setTimeout(() => {
      // A consumer still busy with earlier frames keeps the read side open.
      if (this.iterated && !this.readPending) return this.armGrace();
      this.endRead();
    }, this.ctx.finGraceMs);
    this.graceTimer.unref();
  }

  private closeIfDone(): void {
    if (this.readEnded && this.peerGone) void this.close();
  }

  private closedError(cause?: unknown): StreamClosedError {
    return new StreamClosedError(
      'stream is closed',
      { connection: this.ctx.connectionId, stream: this.id },
      cause === undefined ? undefined : { cause },
    );
  }
}
