/**
 * In-process byte pipes for the in-memory transport: one direction of a
 * stream, with backpressure (a bounded queue) and the same end-of-stream
 * signals a QUIC stream gives (FIN, reset, the reader stopping).
 */
import type { StreamChannel } from './frame-stream.ts';

/**
 * Bytes queued in one direction before writes wait: 1 MiB, the same as
 * the QUIC library's default per-stream window.
 */
export const PIPE_HIGH_WATER_BYTES = 1024 * 1024;

/** One direction of an in-memory stream. */
class Pipe {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Resolves when the reading end stops reading (cancel or reset). */
  readonly readerStopped: Promise<void>;
  /** Resolves when the writing end is finished (close or reset). */
  readonly writerDone: Promise<void>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private stopped = false;
  private ended = false;
  private wake: (() => void) | undefined;
  private resolveStopped!: () => void;
  private resolveWriterDone!: () => void;

  constructor() {
    this.readerStopped = new Promise((r) => (this.resolveStopped = r));
    this.writerDone = new Promise((r) => (this.resolveWriterDone = r));
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.notify(),
        cancel: () => this.stopReading(),
      },
      new ByteLengthQueuingStrategy({ highWaterMark: PIPE_HIGH_WATER_BYTES }),
    );
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.end(),
      abort: (reason) => this.resetWriter(reason),
    });
  }

  /** The reader stops: later writes fail, like STOP_SENDING. */
  stopReading(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.resolveStopped();
    this.notify();
  }

  /** The writer resets: the reader's pending reads fail. */
  resetWriter(reason: unknown): void {
    if (!this.ended) {
      this.ended = true;
      this.controller.error(reason);
    }
    this.resolveWriterDone();
  }

  /** The reader resets its own end: its reads fail, the writer is told. */
  resetReader(reason: unknown): void {
    if (!this.ended) {
      this.ended = true;
      this.controller.error(reason);
    }
    this.stopReading();
  }

  private async write(chunk: Uint8Array): Promise<void> {
    // Wait for room first, so one chunk larger than the mark still fits.
    while (!this.stopped && (this.controller.desiredSize ?? 0) <= 0) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.stopped || this.ended) throw new Error('peer stopped reading');
    // Copy: the writer may reuse its buffer once the write resolves.
    this.controller.enqueue(chunk.slice());
  }

  private end(): void {
    if (!this.ended) {
      this.ended = true;
      this.controller.close();
    }
    this.resolveWriterDone();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Two ends of one in-memory bidirectional stream. */
export function memoryChannelPair(): [StreamChannel, StreamChannel] {
  const ab = new Pipe();
  const ba = new Pipe();
  return [end(ab, ba), end(ba, ab)];
}

function end(out: Pipe, inn: Pipe): StreamChannel {
  return {
    readable: inn.readable,
    writable: out.writable,
    peerStopped: out.readerStopped,
    released: Promise.all([out.writerDone, inn.readerStopped]).then(
      () => undefined,
    ),
    reset: (reason) => {
      const err = new Error(reason);
      out.resetWriter(err);
      inn.resetReader(err);
    },
  };
}
