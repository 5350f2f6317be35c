/**
 * Local publish -> deliver throughput of one site router: a router process
 * started from the seed config (moved to a temporary folder), one
 * publisher and one subscriber agent in this process, 256-byte payloads.
 * The clock starts at the first publish and stops when the subscriber has
 * received every message; publishes are acknowledged only after the
 * durable append, so the figure includes the group-committed fsync.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../src/agent/index.ts';
import { relocatedSeedConfig } from '../harness/seed-config.ts';
import { freePort, startRouter } from '../harness/processes.ts';
import { makeAgent, makeNamespace } from '../harness/grants.ts';

export interface ThroughputResult {
  messages: number;
  seconds: number;
  perSecond: number;
  mbPerSecond: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
}

/** Runs the benchmark with `count` messages in windows of `inFlight`. */
export async function localThroughput(
  count = 20_000,
  inFlight = 2000,
): Promise<ThroughputResult> {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-bench-'));
  const agentPort = await freePort();
  const cfg = join(dir, 'wavemq.toml');
  await writeFile(
    cfg,
    relocatedSeedConfig(dir, await freePort(), agentPort, await freePort(), {
      metricsAddr: '',
    }),
  );
  const router = await startRouter(cfg, { WAVEMQ_LOG_LEVEL: 'info' });
  try {
    const ns = await makeNamespace(dir);
    const a = await makeAgent(dir, 'bench', ns);
    const opts = {
      router: { host: '127.0.0.1', port: agentPort },
      entity: a.entity,
      namespace: ns.id,
      proof: a.proof,
    };
    const pubAgent = await Agent.connect(opts);
    const subAgent = await Agent.connect(opts);
    const sub = await subAgent.subscribe('bench/*', {
      id: 'bench',
      autoAck: true,
    });
    const payload = Buffer.alloc(256, 7);
    const sentAt: number[] = [];
    const latencies: number[] = [];
    const received = (async () => {
      let n = 0;
      for await (const m of sub) {
        latencies.push(
          performance.now() - (sentAt[Number(m.uri.split('/')[2])] ?? 0),
        );
        if (++n >= count) break;
      }
    })();
    const start = performance.now();
    for (let base = 0; base < count; base += inFlight) {
      const batch = [];
      for (let i = base; i < Math.min(count, base + inFlight); i++) {
        sentAt[i] = performance.now();
        batch.push(pubAgent.publish(`bench/x/${i}`, payload));
      }
      await Promise.all(batch);
    }
    await received;
    const seconds = (performance.now() - start) / 1000;
    await sub.close();
    await pubAgent.close();
    await subAgent.close();
    latencies.sort((x, y) => x - y);
    return {
      messages: count,
      seconds,
      perSecond: count / seconds,
      mbPerSecond: (count * 256) / seconds / 1e6,
      p50LatencyMs: latencies[Math.floor(latencies.length * 0.5)] ?? NaN,
      p99LatencyMs: latencies[Math.floor(latencies.length * 0.99)] ?? NaN,
    };
  } finally {
    await router.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}
