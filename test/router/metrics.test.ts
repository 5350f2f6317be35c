import t from 'tap';
import { Registry } from 'prom-client';
import { createRouterMetrics } from '../../src/router/index.ts';

t.test(
  'router metrics: every declared metric is registered under wavemq_router_',
  async (t) => {
    const registry = new Registry();
    const metrics = createRouterMetrics(registry);
    const registered = new Set(registry.getMetricsAsArray().map((m) => m.name));
    const declared = Object.values(metrics).map(
      (m) => (m as unknown as { name: string }).name,
    );
    t.equal(declared.length, Object.keys(metrics).length);
    for (const name of declared) {
      t.ok(registered.has(name), `${name} is registered`);
      t.match(name, /^wavemq_router_/);
    }
    t.equal(registered.size, declared.length, 'and nothing else');
  },
);
