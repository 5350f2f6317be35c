/**
 * Local subscriptions: one durable queue each, registered in the index so
 * publishes reach it, recovered from the data store on start, and attached
 * to at most one agent stream at a time (a newer stream takes over).
 */
import type { QueueId } from '../common/ids.ts';
import type { Logger } from '../common/logger.ts';
import type { RouterConfig } from '../config/index.ts';
import type { DurableQueue, QueueManager } from '../queue/index.ts';
import type { WireRequest } from '../wire/index.ts';
import { SubscriptionIndex } from './subscription-index.ts';
import { downlinkQueueId, subscriptionQueueId } from './queue-ids.ts';
import type { RouterMetrics } from './metrics.ts';

/** What the router stores with a subscription's queue. */
export interface SubscriptionRecord {
  ns: string;
  pattern: string;
  requester: string;
  id: string;
  grantExpiresAtMs: number;
  /**
   * The subscriber's signed request (proof and entity by hash only): a
   * site router sends it to its designated router to register a
   * downlink, on every connect, with no help from the agent.
   */
  req: WireRequest;
  /** For a downlink queue at a designated router: the site it feeds. */
  recipient?: string;
}

/** Shortest time a queue outlives a departed subscriber, ms. */
export const MIN_SUBSCRIPTION_EXPIRY_MS = 60_000;

function isRecord(v: unknown): v is SubscriptionRecord {
  const r = v as Partial<SubscriptionRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.ns === 'string' &&
    typeof r.pattern === 'string' &&
    typeof r.grantExpiresAtMs === 'number' &&
    typeof r.req === 'object'
  );
}

/** Owns the subscription index and the queues behind it. */
export class Subscriptions {
  readonly index = new SubscriptionIndex();
  private readonly attached = new Map<QueueId, AbortController>();
  private readonly removedListeners: ((queue: QueueId) => void)[] = [];
  private readonly openedListeners: ((
    q: DurableQueue,
    r: SubscriptionRecord,
  ) => void)[] = [];

  constructor(
    private readonly queues: QueueManager,
    private readonly config: RouterConfig,
    private readonly metrics: RouterMetrics,
    private readonly logger: Logger,
  ) {
    queues.onQueueExpired((id) => this.forget(id));
  }

  /** Registers every subscription queue found in the data store. */
  recover(): number {
    for (const q of this.queues.list()) {
      if (q.spec.kind === 'trunk' || !isRecord(q.spec.record)) continue;
      this.index.add(q.spec.record.ns, q.spec.record.pattern, q.id);
    }
    this.metrics.subscriptions.set(this.index.size);
    return this.index.size;
  }

  /** Creates or resumes the subscription of an admitted request. */
  async open(
    req: WireRequest,
    grantExpiresAtMs: number,
    recipient?: string,
  ): Promise<{ queue: DurableQueue; resumed: boolean }> {
    const local = subscriptionQueueId(req.requester, req.id);
    const id = recipient ? downlinkQueueId(recipient, local) : local;
    const resumed = this.queues.get(id) !== undefined;
    const cfg = this.config.queue;
    const asked = req.expiryMs > 0 ? req.expiryMs : cfg.queueExpiryMs;
    const signed: WireRequest = { ...req };
    delete signed.proof;
    delete signed.entity;
    const record: SubscriptionRecord = {
      ns: req.ns,
      pattern: req.pattern,
      requester: req.requester,
      id: req.id,
      grantExpiresAtMs,
      req: signed,
      ...(recipient ? { recipient } : {}),
    };
    const queue = await this.queues.ensureQueue(id, {
      kind: recipient ? 'downlink' : 'subscription',
      limits: {
        maxLength: cfg.subscriptionQueueMaxLength,
        maxBytes: cfg.subscriptionQueueMaxBytes,
        maxAgeMs: cfg.queueExpiryMs,
      },
      idleExpiryMs: Math.min(
        Math.max(asked, MIN_SUBSCRIPTION_EXPIRY_MS),
        cfg.queueExpiryMs,
      ),
      record,
    });
    this.index.add(req.ns, req.pattern, id);
    this.metrics.subscriptions.set(this.index.size);
    if (!recipient) for (const l of this.openedListeners) l(queue, record);
    return { queue, resumed };
  }

  /**
   * Hears every local subscription opened (new or resumed); returns a
   * function that stops listening.
   */
  onOpened(
    listener: (q: DurableQueue, r: SubscriptionRecord) => void,
  ): () => void {
    this.openedListeners.push(listener);
    return () => {
      const i = this.openedListeners.indexOf(listener);
      if (i >= 0) this.openedListeners.splice(i, 1);
    };
  }

  /** Local subscriptions (not downlinks) in namespace `ns`. */
  local(ns: string): { queue: DurableQueue; record: SubscriptionRecord }[] {
    const out = [];
    for (const queue of this.queues.list()) {
      const r = queue.spec.record;
      if (queue.spec.kind !== 'subscription' || !isRecord(r)) continue;
      if (r.ns === ns) out.push({ queue, record: r });
    }
    return out;
  }

  /**
   * Marks `queue` attached to a new stream and returns the signal that
   * ends this attachment; aborts the previous attachment, if any.
   */
  attach(queue: QueueId): AbortController {
    this.attached.get(queue)?.abort(new Error('superseded'));
    const ctl = new AbortController();
    this.attached.set(queue, ctl);
    return ctl;
  }

  /** Ends an attachment if it is still the current one. */
  detach(queue: QueueId, ctl: AbortController): void {
    if (this.attached.get(queue) === ctl) this.attached.delete(queue);
  }

  /** Deletes the subscription and its backlog (agent unsubscribed). */
  async remove(queue: QueueId): Promise<void> {
    this.forget(queue);
    await this.queues.deleteQueue(queue);
  }

  private forget(queue: QueueId): void {
    if (!this.index.get(queue)) return;
    this.index.remove(queue);
    this.attached.get(queue)?.abort(new Error('subscription ended'));
    this.metrics.subscriptions.set(this.index.size);
    this.logger.debug({ queue }, 'subscription removed');
    for (const l of this.removedListeners) l(queue);
  }

  /**
   * Hears every subscription removed (unsubscribed or expired); returns
   * a function that stops listening.
   */
  onRemoved(listener: (queue: QueueId) => void): () => void {
    this.removedListeners.push(listener);
    return () => {
      const i = this.removedListeners.indexOf(listener);
      if (i >= 0) this.removedListeners.splice(i, 1);
    };
  }
}
