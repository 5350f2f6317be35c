import t from 'tap';
import { Registry } from 'prom-client';
import { silentLogger } from '../../src/common/index.ts';
import {
  createMemoryTransport,
  createQuicTransport,
  createTransportMetrics,
} from '../../src/transport/index.ts';

void t.test('transport metrics: every metric is registered', (t) => {
  const registry = new Registry();
  const metrics = createTransportMetrics(registry);
  const names = registry.getMetricsAsArray().map((m) => m.name);
  t.equal(names.length, Object.keys(metrics).length);
  for (const name of names) t.match(name, /^wavemq_transport_/);
  t.end();
});

void t.test('transport metrics: registries stay separate', (t) => {
  const a = new Registry();
  const b = new Registry();
  createQuicTransport({ logger: silentLogger(), registry: a });
  createMemoryTransport({ registry: b });
  t.ok(a.getSingleMetric('wavemq_transport_frames_in_total'));
  t.ok(b.getSingleMetric('wavemq_transport_frames_in_total'));
  t.end();
});

void t.test('transport metrics: frames and streams are counted', async (t) => {
  const registry = new Registry();
  const transport = createMemoryTransport({ registry });
  const identity = {
    certPem: '',
    keyPem: '',
    publicKey: new Uint8Array(32),
  };
  const l = await transport.listen({
    host: 'metrics',
    port: 0,
    identity,
    onConnection: (c) =>
      c.onStream((s) => {
        void (async () => {
          for await (const f of s.frames()) await s.send(f);
        })();
      }),
  });
  const c = await transport.connect({ host: 'metrics', port: l.port });
  const s = await c.openStream();
  await s.sendMany([1, 2, 3]);
  const it = s.frames()[Symbol.asyncIterator]();
  for (let i = 0; i < 3; i++) await it.next();
  const value = async (name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values.reduce(
      (sum, v) => sum + v.value,
      0,
    );
  t.equal(await value('wavemq_transport_frames_out_total'), 6);
  t.equal(await value('wavemq_transport_frames_in_total'), 6);
  t.equal(await value('wavemq_transport_streams_opened_total'), 2);
  t.equal(await value('wavemq_transport_connections_open'), 2);
  await c.close();
  await l.stop();
});
