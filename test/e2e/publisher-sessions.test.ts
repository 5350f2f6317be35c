import t from 'tap';
import { take, text } from '../helpers/messages.ts';
import { makeSite } from '../helpers/site.ts';
import { eventually, freeTcpPort } from '../../harness/processes.ts';
import type { TestAgent } from '../../harness/grants.ts';
import type { NamespaceId } from '../../src/common/ids.ts';
import { silentLogger } from '../../src/common/logger.ts';
import {
  createQuicTransport,
  type FrameStream,
} from '../../src/transport/index.ts';
import { messageDigest, signDigests } from '../../src/wave/index.ts';

type Frame = Record<string, unknown>;

/**
 * A publisher written by hand, so a test can send again exactly what it
 * sent before (same session, same numbers), as an agent that reconnects
 * resends what was not acknowledged.
 */
async function rawPublisher(
  port: number,
  a: TestAgent,
  ns: NamespaceId,
): Promise<{
  publish(session: string, seqs: number[]): Promise<Frame>;
  close(): Promise<void>;
}> {
  const transport = createQuicTransport({ logger: silentLogger() });
  const conn = await transport.connect({ host: '127.0.0.1', port });
  const stream: FrameStream = await conn.openStream();
  await stream.send({ t: 'hello', v: 1 });
  const frames = stream.frames()[Symbol.asyncIterator]();
  const next = async (): Promise<Frame> => {
    const n = await frames.next();
    if (n.done === true) throw new Error('control stream ended');
    return n.value as Frame;
  };
  const welcome = await next();
  const origin = String(welcome['router']);
  let id = 0;
  return {
    async publish(session, seqs) {
      const fields = seqs.map((seq) => ({
        namespace: ns,
        uri: 'd/x',
        payloads: [
          { schema: 'text', content: Buffer.from(`${session}:${seq}`) },
        ],
        publisher: a.entity.hash,
        originRouter: origin,
        sessionId: session,
        seq,
        // The time a message was first published; a resend repeats it.
        publishedAtMs: 1_700_000_000_000 + seq,
        persist: false,
        proofHash: a.proof.hash,
      }));
      const sigs = signDigests(a.entity, fields.map(messageDigest));
      const msgs = fields.map((f, i) => ({
        ns: f.namespace,
        uri: f.uri,
        payloads: f.payloads,
        publisher: f.publisher,
        origin: f.originRouter,
        session,
        seq: f.seq,
        ts: f.publishedAtMs,
        persist: false,
        proofHash: f.proofHash,
        sig: sigs[i],
        proof: a.proof.bytes,
        entity: a.entity.publicEntity.bytes,
      }));
      id += 1;
      await stream.send({ t: 'pub', id, msgs });
      return next();
    },
    async close() {
      await stream.close();
      await conn.close();
    },
  };
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

t.test(
  'publisher sessions: after SIGKILL, a resend from a fresh connection is dropped, gaps are still taken, and subscribers see each message once',
  async (t) => {
    const metricsPort = await freeTcpPort();
    const site = await makeSite(t, (toml) =>
      toml.replace(
        'listenAddr = ""',
        `listenAddr = "127.0.0.1:${metricsPort}"`,
      ),
    );
    const metric = async (name: string): Promise<number> => {
      const body = await (
        await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      ).text();
      const line = body.split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ')[1]);
    };
    await site.start();
    const a = await site.agent('a');
    let agent = await site.connect(a);
    await (await agent.subscribe('d/*', { id: 'dedup' })).close();

    let pub = await rawPublisher(site.agentPort, a, site.ns.id);
    const s1 = `s1-${process.pid}`;
    const s2 = `s2-${process.pid}`;
    t.match(await pub.publish(s1, range(1, 10)), { t: 'puback', count: 10 });
    // s2 skips 4 and 5: they come late, after the restart.
    t.match(await pub.publish(s2, [1, 2, 3, 6, 7, 8]), {
      t: 'puback',
      count: 6,
    });
    // Acknowledged, so durable: die before anything else happens.
    await site.router!.kill('SIGKILL');
    await site.start();

    pub = await rawPublisher(site.agentPort, a, site.ns.id);
    t.teardown(() => pub.close());
    t.match(
      await pub.publish(s1, range(5, 12)),
      { t: 'puback', count: 8 },
      'the resend is acknowledged',
    );
    t.match(await pub.publish(s2, [4, 5, 7]), { t: 'puback', count: 3 });
    agent = await site.connect(a);
    const sub = await agent.subscribe('d/*', { id: 'dedup' });
    t.ok(sub.resumed);
    t.equal(sub.backlog, 20, '12 of s1 and 8 of s2, nothing twice');
    const got = (await take(sub, 20)).map(text);
    const expected = [
      ...range(1, 12).map((n) => `${s1}:${n}`),
      ...range(1, 8).map((n) => `${s2}:${n}`),
    ];
    t.same([...got].sort(), [...expected].sort(), 'each message once');
    t.same(
      got.filter((m) => m.startsWith(s1)),
      range(1, 12).map((n) => `${s1}:${n}`),
      's1 in order',
    );
    t.equal(
      await metric('wavemq_router_publish_duplicates_total'),
      7,
      's1 5..10 and s2 7 dropped as duplicates',
    );
    t.equal(
      await eventually(async () => {
        const held = await metric('wavemq_router_publisher_sessions');
        return held === 2 ? held : undefined;
      }),
      2,
      'both sessions are held on disk',
    );
  },
);
