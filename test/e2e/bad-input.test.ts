import t from 'tap';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { makeSite } from '../helpers/site.ts';
import { freeTcpPort } from '../../harness/processes.ts';
import {
  createQuicTransport,
  type FrameStream,
} from '../../src/transport/index.ts';
import { WRITE_RAW } from '../../src/transport/frame-stream.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { Entity, messageDigest, signDigests } from '../../src/wave/index.ts';
import {
  RouterRefusedError,
  type ReceivedMessage,
} from '../../src/agent/index.ts';

type Frame = Record<string, unknown>;

async function firstFrame(stream: FrameStream): Promise<Frame | undefined> {
  for await (const f of stream.frames()) return f as Frame;
  return undefined;
}

async function rawWrite(stream: FrameStream, bytes: Uint8Array): Promise<void> {
  const raw = stream as unknown as Record<
    typeof WRITE_RAW,
    (b: Uint8Array) => Promise<void>
  >;
  await raw[WRITE_RAW](bytes);
}

t.test(
  'bad input: malformed frames, garbage and forgeries get named errors, are counted, and disturb nobody',
  async (t) => {
    const metricsPort = await freeTcpPort();
    const site = await makeSite(t, (toml) =>
      toml.replace(
        'listenAddr = ""',
        `listenAddr = "127.0.0.1:${metricsPort}"`,
      ),
    );
    await site.start();
    const good = await site.agent('good');
    const agent = await site.connect(good);
    const sub = await agent.subscribe('ok/*', { id: 'bystander' });
    const it = sub[Symbol.asyncIterator]();
    const receive = async (): Promise<ReceivedMessage | undefined> => {
      const n = await it.next();
      if (n.done) return undefined;
      sub.ack(n.value);
      return n.value;
    };
    await agent.publish('ok/1', 'before');
    t.equal((await receive())?.uri, 'ok/1');

    const transport = createQuicTransport({ logger: silentLogger() });
    const conn = await transport.connect({
      host: '127.0.0.1',
      port: site.agentPort,
    });
    t.teardown(() => conn.close());

    // Garbage bytes: not CBOR at all.
    let s = await conn.openStream();
    await rawWrite(
      s,
      Buffer.concat([
        Buffer.from([0, 0, 0, 8]),
        Buffer.from([0xff, 0xfe, 0xfd, 0x1c, 0x1d, 0x1e, 0x1f, 0xff]),
      ]),
    );
    let f = await firstFrame(s);
    t.equal(f?.['t'], 'err', 'garbage CBOR gets an error frame');
    t.match(String(f?.['code']), /MALFORMED/, `named: ${String(f?.['code'])}`);
    await s.close();

    // A length prefix far beyond the frame limit.
    s = await conn.openStream();
    await rawWrite(s, Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
    f = await firstFrame(s);
    t.equal(f?.['code'], 'FRAME_TOO_LARGE', 'an oversized frame is named');
    await s.close();

    // Well-formed CBOR, wrong shape.
    s = await conn.openStream();
    await s.send({ t: 'pub', id: 'seven', msgs: [] });
    f = await firstFrame(s);
    t.equal(f?.['code'], 'FRAME_FIELD_INVALID');
    t.match(String(f?.['message']), /'id'/, 'names the field');
    await s.close();

    // Random UDP datagrams at the port.
    const udp = createSocket('udp4');
    for (let i = 0; i < 200; i++)
      udp.send(randomBytes(1 + (i % 1200)), site.agentPort, '127.0.0.1');
    // QUIC v1 0-RTT long headers for no known connection (they carry no
    // token; the QUIC library fails on them with a TypeError).
    for (let i = 0; i < 5; i++) {
      const zeroRtt = Buffer.concat([
        Buffer.from([0xd0, 0, 0, 0, 1, 8]),
        randomBytes(8),
        Buffer.from([8]),
        randomBytes(8),
        Buffer.from([0x44, 0]),
        randomBytes(20),
      ]);
      udp.send(zeroRtt, site.agentPort, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 200));
    udp.close();

    // Greet the router by hand to learn its id, for hand-made messages.
    s = await conn.openStream();
    await s.send({ t: 'hello', v: 1 });
    const welcome = await (async () => {
      for await (const x of s.frames()) return x as Frame;
      return undefined;
    })();
    t.equal(welcome?.['t'], 'welcome');
    await s.close();

    // A forged message: claims to be `good` but is signed by a stranger.
    const stranger = Entity.create();
    const fields = {
      namespace: site.ns.id,
      uri: 'ok/forged',
      payloads: [{ schema: 'text', content: Buffer.from('x') }],
      publisher: good.entity.hash,
      originRouter: String(welcome?.['router']),
      sessionId: 'forger',
      seq: 1,
      publishedAtMs: Date.now(),
      persist: false,
      proofHash: good.proof.hash,
    };
    const [sig] = signDigests(stranger, [messageDigest(fields)]);
    const forged = {
      ns: fields.namespace,
      uri: fields.uri,
      payloads: fields.payloads,
      publisher: fields.publisher,
      origin: fields.originRouter,
      session: 'forger',
      seq: 1,
      ts: fields.publishedAtMs,
      persist: false,
      proofHash: fields.proofHash,
      sig,
      proof: good.proof.bytes,
      entity: good.entity.publicEntity.bytes,
    };
    for (const [msg, code] of [
      [forged, 'BAD_SIGNATURE'],
      [{ ...forged, uri: 'ok/+' }, 'INVALID_URI'],
    ] as const) {
      s = await conn.openStream();
      await s.send({ t: 'hello', v: 1 });
      await s.send({ t: 'pub', id: 1, msgs: [msg] });
      const frames: Frame[] = [];
      for await (const x of s.frames()) {
        frames.push(x as Frame);
        if (frames.length === 2) break;
      }
      t.equal(frames[1]?.['code'], code, `refused as ${code}`);
      await s.close();
    }

    // Oversized message through the SDK: refused with the size named.
    const big = Buffer.alloc(1024 * 1024 + 10, 1);
    const err = await agent.publish('ok/big', big).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(err instanceof RouterRefusedError, 'oversized message refused');
    t.equal((err as RouterRefusedError).data.routerCode, 'MESSAGE_TOO_LARGE');

    // The bystander never saw any of it, and still works.
    await agent.publish('ok/2', 'after');
    const m = await receive();
    t.equal(m?.uri, 'ok/2', 'next delivery is the next good message');

    const metrics = await (
      await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    ).text();
    const count = (re: RegExp): number =>
      [...metrics.matchAll(re)].reduce((n, x) => n + Number(x[1]), 0);
    t.ok(
      count(/^wavemq_router_bad_frames_total\{[^}]*\} (\d+)/gm) >= 3,
      'bad frames are counted',
    );
    t.ok(
      count(/^wavemq_router_rejected_total\{[^}]*\} (\d+)/gm) >= 3,
      'refusals are counted',
    );
    t.equal(
      count(/^wavemq_transport_bad_datagrams_total (\d+)/gm),
      5,
      'the datagrams the QUIC library failed on are counted',
    );
  },
);
