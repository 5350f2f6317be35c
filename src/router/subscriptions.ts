/**
 * Local subscriptions: one durable queue each, registered in the index so
 * publishes reach it, recovered from the data store on start, and attached
 * to at most one agent stream at a time (a newer stream takes over).
 */
import { createHash } from 'node:crypto';
import type { QueueId } from '../common/ids.ts';
import type { Logger } from '../common/logger.ts';
import type { RouterConfig } from '../config/index.ts';
import type { DurableQueue, QueueManager } from '../queue/index.ts';
import type { WireRequest } from '../wire/index.ts';
import { SubscriptionIndex } from './subscription-index.ts';
import type { RouterMetrics } from './metrics.ts';

/** What the router stores with a subscription's queue. */
export interface SubscriptionRecord {
  ns: string;
  pattern: string;
  requester: string;
  id: string;
  grantExpiresAtMs: number;
}

/** Shortest time a queue outlives a departed subscriber, ms. */
export const MIN_SUBSCRIPTION_EXPIRY_MS = 60_000;

const QUEUE_PREFIX = 'sub/';

/** The queue id of the subscription (requester, client identifier). */
export function subscriptionQueueId(requester: string, id: string): QueueId {
  const h = createHash('sha256').update(`${requester}\n${id}`).digest();
  return `${QUEUE_PREFIX}${h.subarray(0, 18).toString('base64url')}` as QueueId;
}

function isRecord(v: unknown): v is SubscriptionRecord {
  const r = v as Partial<SubscriptionRecord> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.ns === 'string' &&
    typeof r.pattern === 'string' &&
    typeof r.grantExpiresAtMs === 'number'
  );
}

/** Owns the subscription index and the queues behind it. */
export class Subscriptions {
  readonly index = new SubscriptionIndex();
  private readonly attached = new Map<QueueId, AbortController>();

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
      if (q.spec.kind !== 'subscription' || !isRecord(q.spec.record)) continue;
      this.index.add(q.spec.record.ns, q.spec.record.pattern, q.id);
    }
    this.metrics.subscriptions.set(this.index.size);
    return this.index.size;
  }

  /** Creates or resumes the subscription of an admitted request. */
  async open(
    req: WireRequest,
    grantExpiresAtMs: number,
  ): Promise<{ queue: DurableQueue; resumed: boolean }> {
    const id = subscriptionQueueId(req.requester, req.id);
    const resumed = this.queues.get(id) !== undefined;
    const cfg = this.config.queue;
    const asked = req.expiryMs > 0 ? req.expiryMs : cfg.queueExpiryMs;
    const record: SubscriptionRecord = {
      ns: req.ns,
      pattern: req.pattern,
      requester: req.requester,
      id: req.id,
      grantExpiresAtMs,
    };
    const queue = await this.queues.ensureQueue(id, {
      kind: 'subscription',
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
    return { queue, resumed };
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
  }
}
