/**
 * A subscription as the agent sees it: an async iterator of messages in
 * queue order. Acks are cumulative: acknowledging a message acknowledges
 * everything before it. Acks are sent coalesced, at most every
 * ACK_INTERVAL_MS, and always before close().
 */
import type { FrameStream } from '../transport/index.ts';
import { errorMessage } from '../common/errors.ts';
import { decodeStored, type ReceivedMessage } from './message.ts';
import { refusal } from './control.ts';
import { AgentDisconnectedError, AgentProtocolError } from './errors.ts';

/** Longest an ack waits to be sent with later ones, ms. */
export const ACK_INTERVAL_MS = 20;

type Obj = Record<string, unknown>;

/** An open subscription; iterate it, ack what you handled, close it. */
export class Subscription implements AsyncIterable<ReceivedMessage> {
  /** The router's id for this subscription's queue. */
  readonly id: string;
  /** True when the router resumed an existing queue. */
  readonly resumed: boolean;
  /** Messages waiting in the queue when the subscription attached. */
  readonly backlog: number;
  private delivered = 0;
  private acked = 0;
  private sentAck = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private closing: Promise<number> | undefined;
  private closedWaiter: ((acked: number) => void) | undefined;
  private readonly frames: AsyncIterator<unknown>;
  /**
   * Received, not yet yielded. Bounded by the router's delivery window
   * (it sends no more than that many unacknowledged messages).
   */
  private readonly buffered: { seq: number; m: Uint8Array; drops: number }[] =
    [];

  constructor(
    private readonly stream: FrameStream,
    frames: AsyncIterator<unknown>,
    ok: Obj,
    private readonly autoAck: boolean,
  ) {
    this.frames = frames;
    this.id = String(ok['sub']);
    this.resumed = ok['resumed'] === true;
    this.backlog = typeof ok['backlog'] === 'number' ? ok['backlog'] : 0;
  }

  /**
   * Messages in queue order. Stopping an iteration early (break) loses
   * nothing: what was received but not yet yielded waits for the next
   * iteration.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedMessage> {
    for (;;) {
      const item = this.buffered.shift();
      if (item) {
        // A resend after a reconnect may repeat what this object delivered.
        if (item.seq <= this.delivered) continue;
        this.delivered = item.seq;
        const msg = decodeStored(item.m, item.seq, item.drops);
        if (this.autoAck) this.ack(msg);
        yield msg;
        continue;
      }
      if (!(await this.receive())) return;
    }
  }

  /** Reads one frame into the buffer; false when the stream has ended. */
  private async receive(): Promise<boolean> {
    const next = await this.frames.next().catch((err: unknown) => {
      throw new AgentDisconnectedError(
        `subscription stream failed: ${errorMessage(err)}`,
        { pending: this.buffered.length },
      );
    });
    if (next.done) return false;
    const frame = next.value as Obj;
    switch (frame['t']) {
      case 'msgs': {
        const drops = Number(frame['drops'] ?? 0);
        const items = frame['items'] as { seq: number; m: Uint8Array }[];
        for (const i of items) this.buffered.push({ ...i, drops });
        return true;
      }
      case 'closed':
        this.closedWaiter?.(Number(frame['acked']));
        return false;
      case 'err':
        throw refusal(frame);
      default:
        throw new AgentProtocolError(`unexpected frame ${String(frame['t'])}`, {
          frame: String(frame['t']),
        });
    }
  }

  /** Acknowledges `msg` and every message delivered before it. */
  ack(msg: ReceivedMessage | number): void {
    const seq = typeof msg === 'number' ? msg : msg.seq;
    if (seq <= this.acked) return;
    this.acked = seq;
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      void this.sendAck();
    }, ACK_INTERVAL_MS);
  }

  private async sendAck(): Promise<void> {
    if (this.acked <= this.sentAck) return;
    const seq = this.acked;
    this.sentAck = seq;
    await this.stream.send({ t: 'ack', seq }).catch(() => {
      // The stream is gone; the router resends whatever was not acked.
    });
  }

  /**
   * Sends outstanding acks and ends the subscription stream. With
   * `unsubscribe`, the router also deletes the queue and its backlog.
   * Resolves with the last sequence number the router has made durable.
   */
  close(o: { unsubscribe?: boolean } = {}): Promise<number> {
    this.closing ??= this.doClose(o.unsubscribe === true);
    return this.closing;
  }

  private async doClose(unsubscribe: boolean): Promise<number> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    const closed = new Promise<number>(
      (resolve) => (this.closedWaiter = resolve),
    );
    try {
      await this.sendAck();
      await this.stream.send({ t: 'close', unsubscribe });
      // Drain remaining frames so the `closed` answer is seen.
      const drain = (async () => {
        for await (const m of this) void m;
      })().catch(() => undefined);
      const acked = await Promise.race([closed, drain.then(() => this.acked)]);
      return acked;
    } finally {
      await this.stream.close();
    }
  }
}
