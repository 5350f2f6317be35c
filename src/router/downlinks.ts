/**
 * A site router's downlinks: for every local subscription in a namespace,
 * a stream to the designated router carrying the subscriber's signed
 * request, over which the designated router sends what other sites
 * published. Each batch is appended to the local subscription queue
 * together with the downlink's high-water mark in one durable write, then
 * acked; a resend at or below the mark is dropped. Subscriptions are
 * registered again on every connect, and new ones as they appear, without
 * the agent doing anything.
 */
import type { Logger } from '../common/logger.ts';
import { errorMessage } from '../common/errors.ts';
import type { QueueId } from '../common/ids.ts';
import type { DurableQueue } from '../queue/index.ts';
import type { Connection, FrameStream } from '../transport/index.ts';
import { decode, parseWireMessage } from '../wire/index.ts';
import type { Router } from './router.ts';
import type { SubscriptionRecord } from './subscriptions.ts';
import { encodeHwm, downlinkHwmKey, readDownlinkHwm } from './hwm.ts';

type Obj = Record<string, unknown>;

/** The downlinks of one namespace over one live connection. */
export class Downlinks {
  private readonly active = new Map<QueueId, Promise<void>>();
  /** Open downlink streams, to end upstream when a subscription ends. */
  private readonly streams = new Map<QueueId, FrameStream>();
  private unlisten: (() => void)[] = [];

  constructor(
    private readonly router: Router,
    private readonly conn: Connection,
    private readonly ns: string,
    private readonly log: Logger,
  ) {}

  /** Registers every local subscription of the namespace, now and later. */
  start(): void {
    for (const { queue, record } of this.router.subscriptions.local(this.ns)) {
      this.open(queue, record);
    }
    const subs = this.router.subscriptions;
    this.unlisten = [
      subs.onOpened((queue, record) => {
        if (record.ns === this.ns) this.open(queue, record);
      }),
      subs.onRemoved((queue) => void this.unsubscribe(queue)),
    ];
  }

  /** Stops registering new downlinks (the connection is going away). */
  stop(): void {
    for (const u of this.unlisten.splice(0)) u();
  }

  /**
   * The local subscription ended: delete its downlink upstream too. If the
   * link is down, the designated router's queue ages out by its expiry.
   */
  private async unsubscribe(queue: QueueId): Promise<void> {
    const stream = this.streams.get(queue);
    if (!stream) return;
    await stream
      .send({ t: 'close', unsubscribe: true })
      .catch((err: unknown) => {
        this.log.debug(
          { queue, err: errorMessage(err) },
          'downlink close failed',
        );
      });
  }

  private open(queue: DurableQueue, record: SubscriptionRecord): void {
    if (this.active.has(queue.id)) return;
    const run = this.run(queue, record)
      .catch((err: unknown) => {
        this.log.debug(
          { queue: queue.id, err: errorMessage(err) },
          'downlink ended',
        );
      })
      .finally(() => this.active.delete(queue.id));
    this.active.set(queue.id, run);
  }

  private async run(queue: DurableQueue, r: SubscriptionRecord): Promise<void> {
    const stream = await this.conn.openStream();
    try {
      const frames = stream.frames()[Symbol.asyncIterator]();
      const req = {
        ...r.req,
        proof: (await this.router.authorizer.proof(r.req.proofHash)).bytes,
        entity: (await this.router.authorizer.entity(r.req.requester)).bytes,
      };
      await stream.send({ t: 'sub', req });
      const first = await frames.next();
      const ok = (first.done ? {} : first.value) as Obj;
      if (ok['t'] !== 'subok') {
        const code = typeof ok['code'] === 'string' ? ok['code'] : 'CLOSED';
        this.router.metrics.rejected.inc({ code });
        this.log.warn(
          { queue: queue.id, code: ok['code'], err: ok['message'] },
          'designated router refused a downlink',
        );
        return;
      }
      this.streams.set(queue.id, stream);
      await this.receive(queue, stream, frames);
    } finally {
      this.streams.delete(queue.id);
      await stream.close();
    }
  }

  private async receive(
    queue: DurableQueue,
    stream: FrameStream,
    frames: AsyncIterator<unknown>,
  ): Promise<void> {
    let hwm = await readDownlinkHwm(this.router.queues, queue.id);
    for (;;) {
      const next = await frames.next();
      if (next.done) return;
      const f = next.value as Obj;
      if (f['t'] !== 'msgs') return;
      const items = (f['items'] as { seq: number; m: Uint8Array }[]).filter(
        (i) => i.seq > hwm,
      );
      const last = items.at(-1);
      if (last) {
        await this.store(queue, items, last.seq);
        hwm = last.seq;
      }
      await stream.send({ t: 'ack', seq: hwm });
    }
  }

  private async store(
    queue: DurableQueue,
    items: { seq: number; m: Uint8Array }[],
    top: number,
  ): Promise<void> {
    const mark = { key: downlinkHwmKey(queue.id), value: encodeHwm(top) };
    const entries = items.map((i) => ({ queue: queue.id, bytes: i.m }));
    await this.router.queues.appendMany(entries, { marks: [mark] });
    this.router.metrics.published.inc({ origin: 'downlink' }, items.length);
    // Keep what passes by, so a query can be answered when the uplink is down.
    const persisted = [];
    for (const i of items) {
      const m = parseWireMessage(decode(i.m));
      if (m.persist) persisted.push({ ns: m.ns, uri: m.uri, bytes: i.m });
    }
    await this.router.keepPersisted(persisted);
  }
}
