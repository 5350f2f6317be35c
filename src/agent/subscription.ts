/**
 * A subscription as the agent sees it: an async iterator of messages in
 * queue order. Acks are cumulative: acknowledging a message acknowledges
 * everything before it. Acks are sent coalesced, at most every
 * ACK_INTERVAL_MS, and always before close().
 *
 * When the agent reconnects by itself, a subscription whose stream ended
 * with its connection subscribes again on the next connection with the
 * same request (so the same queue). The router then sends everything not
 * acknowledged; queue sequence numbers are stable, so what was already
 * yielded is skipped and the iterator yields each message once. If the
 * router refuses the new subscribe (grant expired or revoked), the
 * iterator ends with that error.
 */
import type { FrameStream } from '../transport/index.ts';
import { errorMessage } from '../common/errors.ts';
import { decodeStored, type ReceivedMessage } from './message.ts';
import { refusal } from './control.ts';
import {
  AgentClosedError,
  AgentDisconnectedError,
  AgentProtocolError,
  isLinkFailure,
} from './errors.ts';

/** Longest an ack waits to be sent with later ones, ms. */
export const ACK_INTERVAL_MS = 20;

type Obj = Record<string, unknown>;

/** A subscription stream the router has confirmed with `subok`. */
export interface Attachment {
  stream: FrameStream;
  frames: AsyncIterator<unknown>;
  ok: Obj;
  /** Epoch of the agent's connection it runs on. */
  epoch: number;
}

/**
 * Subscribes again on a connection newer than `after`.
 * @throws the router's refusal, or why the agent closed, or the
 *   signal's reason.
 */
export type Reattach = (
  after: number,
  signal: AbortSignal,
) => Promise<Attachment>;

/** An open subscription; iterate it, ack what you handled, close it. */
export class Subscription implements AsyncIterable<ReceivedMessage> {
  /** The router's id for this subscription's queue. */
  readonly id: string;
  /** True when the router resumed an existing queue. */
  readonly resumed: boolean;
  /** Messages waiting in the queue when the subscription attached. */
  readonly backlog: number;
  private delivered = 0;
  /** Highest seq taken into `buffered`; repeats after a resume are not. */
  private received = 0;
  private acked = 0;
  private sentAck = 0;
  private ackTimer: NodeJS.Timeout | undefined;
  private closing: Promise<number> | undefined;
  private closedWaiter: ((acked: number) => void) | undefined;
  private at: Attachment;
  /** False once the stream has ended and no new one is attached yet. */
  private attached = true;
  private readonly stop = new AbortController();
  /**
   * Received, not yet yielded. Bounded by the router's delivery window
   * (it sends no more than that many unacknowledged messages); repeats
   * sent after a resume are not kept.
   */
  private readonly buffered: { seq: number; m: Uint8Array; drops: number }[] =
    [];

  /**
   * `reattach` is set when the agent reconnects by itself; without it,
   * the iterator ends (or throws AgentDisconnectedError) with the stream.
   */
  constructor(
    first: Attachment,
    private readonly autoAck: boolean,
    private readonly reattach?: Reattach,
  ) {
    this.at = first;
    this.id = String(first.ok['sub']);
    this.resumed = first.ok['resumed'] === true;
    this.backlog =
      typeof first.ok['backlog'] === 'number' ? first.ok['backlog'] : 0;
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

  /** Reads one frame into the buffer; false when the iteration ends. */
  private async receive(): Promise<boolean> {
    const next = await this.at.frames.next().catch((err: unknown) => {
      if (this.reattach) return { done: true as const, value: undefined };
      throw new AgentDisconnectedError(
        `subscription stream failed: ${errorMessage(err)}`,
        { pending: this.buffered.length },
      );
    });
    if (next.done) return this.ended();
    const frame = next.value as Obj;
    switch (frame['t']) {
      case 'msgs': {
        const drops = Number(frame['drops'] ?? 0);
        const items = frame['items'] as { seq: number; m: Uint8Array }[];
        for (const i of items) {
          if (i.seq <= this.received) continue;
          this.received = i.seq;
          this.buffered.push({ ...i, drops });
        }
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

  /**
   * The stream ended without `closed`: its connection went. Subscribes
   * again when the agent reconnects by itself; true once attached.
   * @throws the router's refusal of the new subscribe, or
   *   RouterChangedError; ends quietly when the agent or this
   *   subscription was closed.
   */
  private async ended(): Promise<boolean> {
    this.attached = false;
    if (!this.reattach || this.closing) return false;
    let at: Attachment;
    try {
      at = await this.reattach(this.at.epoch, this.stop.signal);
    } catch (err) {
      if (this.stop.signal.aborted || err instanceof AgentClosedError) {
        return false;
      }
      throw err;
    }
    if (this.closing) {
      await at.stream.close();
      return false;
    }
    this.at = at;
    this.attached = true;
    if (at.ok['resumed'] !== true) this.restartNumbering();
    // Acks sent on the old stream may not have arrived: say it again.
    if (this.acked > 0) {
      this.sentAck = 0;
      this.scheduleAck();
    }
    return true;
  }

  /**
   * The router no longer had the queue (it expired while the agent was
   * away) and made a new one, numbered from the start: what the old one
   * held is gone with it, including what was received here but not yet
   * yielded, whose numbers mean nothing to the new queue.
   */
  private restartNumbering(): void {
    this.buffered.length = 0;
    this.delivered = 0;
    this.received = 0;
    this.acked = 0;
    this.sentAck = 0;
  }

  /** Acknowledges `msg` and every message delivered before it. */
  ack(msg: ReceivedMessage | number): void {
    const seq = typeof msg === 'number' ? msg : msg.seq;
    if (seq <= this.acked) return;
    this.acked = seq;
    this.scheduleAck();
  }

  private scheduleAck(): void {
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      void this.sendAck();
    }, ACK_INTERVAL_MS);
  }

  private async sendAck(): Promise<void> {
    if (this.acked <= this.sentAck) return;
    const seq = this.acked;
    this.sentAck = seq;
    await this.at.stream.send({ t: 'ack', seq }).catch(() => {
      // The stream is gone; the router resends whatever was not acked,
      // and a resumed subscription sends this ack again.
    });
  }

  /**
   * Sends outstanding acks and ends the subscription stream. With
   * `unsubscribe`, the router also deletes the queue and its backlog.
   * Resolves with the last sequence number the router has made durable;
   * with 0 when the agent reconnects by itself and the subscription was
   * not attached (its connection gone): acks not yet sent are then lost,
   * and those messages come again to the next subscriber with this id.
   */
  close(o: { unsubscribe?: boolean } = {}): Promise<number> {
    this.closing ??= this.doClose(o.unsubscribe === true);
    return this.closing;
  }

  private async doClose(unsubscribe: boolean): Promise<number> {
    clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
    this.stop.abort(new AgentClosedError('subscription closed', {}));
    const closed = new Promise<number>(
      (resolve) => (this.closedWaiter = resolve),
    );
    const stream = this.at.stream;
    try {
      if (this.reattach && !this.attached) return 0;
      await this.sendAck();
      await stream.send({ t: 'close', unsubscribe });
      // Drain remaining frames so the `closed` answer is seen.
      const drain = (async () => {
        for await (const m of this) void m;
      })().catch(() => undefined);
      return await Promise.race([closed, drain.then(() => this.acked)]);
    } catch (err) {
      if (this.reattach && isLinkFailure(err)) return 0;
      throw err;
    } finally {
      await stream.close();
    }
  }
}
