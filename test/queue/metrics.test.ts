import t from 'tap';
import { Registry } from 'prom-client';
import { QueueManager } from '../../src/queue/manager.ts';
import { QUEUE_METRIC_NAMES } from '../../src/queue/metrics.ts';
import { manual, payload, qid, spec } from './backends.ts';

async function value(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = await registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(
      ([k, l]) => (v.labels as Record<string, unknown>)[k] === l,
    ),
  );
  return found?.value;
}

void t.test(
  'queue metrics: every declared metric is registered, and only those',
  async (t) => {
    const registry = new Registry();
    const m = await QueueManager.open({ store: 'memory', registry });
    t.teardown(() => m.close());
    for (const name of QUEUE_METRIC_NAMES) {
      t.ok(registry.getSingleMetric(name), `${name} registered`);
    }
    const ours = registry
      .getMetricsAsArray()
      .map((x) => x.name)
      .filter((n) => n.startsWith('wavemq_queue_'));
    t.same(ours.sort(), [...QUEUE_METRIC_NAMES].sort());
  },
);

void t.test(
  'queue metrics: depth, bytes, age, drops, appends and acks by kind',
  async (t) => {
    const registry = new Registry();
    const { clock, o } = manual();
    const m = await QueueManager.open({ store: 'memory', registry, ...o });
    t.teardown(() => m.close());
    const trunk = await m.ensureQueue(
      qid('t'),
      spec({ kind: 'trunk', maxLength: 2 }),
    );
    const sub = await m.ensureQueue(
      qid('s'),
      spec({ maxBytes: 10, idleExpiryMs: 100 }),
    );
    await trunk.append(payload(5));
    clock.advance(2000);
    await trunk.append(payload(5));
    await trunk.append(payload(5));
    await sub.append(payload(4));
    await sub.ack(1);
    await t.rejects(sub.append(payload(11)));
    t.equal(await value(registry, 'wavemq_queue_depth', { kind: 'trunk' }), 2);
    t.equal(
      await value(registry, 'wavemq_queue_depth', { kind: 'subscription' }),
      0,
    );
    t.equal(
      await value(registry, 'wavemq_queue_depth', { kind: 'downlink' }),
      0,
    );
    t.equal(await value(registry, 'wavemq_queue_bytes', { kind: 'trunk' }), 10);
    t.equal(await value(registry, 'wavemq_queue_count', { kind: 'trunk' }), 1);
    t.equal(
      await value(registry, 'wavemq_queue_oldest_age_seconds', {
        kind: 'trunk',
      }),
      0,
      'the oldest (first) item was dropped',
    );
    clock.advance(1500);
    t.equal(
      await value(registry, 'wavemq_queue_oldest_age_seconds', {
        kind: 'trunk',
      }),
      1.5,
    );
    t.equal(
      await value(registry, 'wavemq_queue_drops_total', {
        kind: 'trunk',
        reason: 'length',
      }),
      1,
    );
    t.equal(
      await value(registry, 'wavemq_queue_appends_total', { kind: 'trunk' }),
      3,
    );
    t.equal(
      await value(registry, 'wavemq_queue_appended_bytes_total', {
        kind: 'trunk',
      }),
      15,
    );
    t.equal(
      await value(registry, 'wavemq_queue_acked_total', {
        kind: 'subscription',
      }),
      1,
    );
    t.equal(
      await value(registry, 'wavemq_queue_rejected_total', {
        kind: 'subscription',
        reason: 'too_large',
      }),
      1,
    );
    await m.sweep();
    t.equal(
      await value(registry, 'wavemq_queue_expired_total', {
        kind: 'subscription',
      }),
      1,
    );
    t.equal(
      await value(registry, 'wavemq_queue_count', { kind: 'subscription' }),
      0,
    );
    const commits = (await value(registry, 'wavemq_queue_commits_total')) ?? 0;
    t.ok(commits >= 7, 'commits counted');
  },
);

void t.test(
  'queue metrics: two managers can use two registries in one process',
  async (t) => {
    const a = await QueueManager.open({
      store: 'memory',
      registry: new Registry(),
    });
    const b = await QueueManager.open({
      store: 'memory',
      registry: new Registry(),
    });
    const c = await QueueManager.open({ store: 'memory' });
    await Promise.all([a.close(), b.close(), c.close()]);
    t.pass('no duplicate registration');
  },
);
