import t from 'tap';
import {
  backlogDrained,
  uplinkReaches,
  uplinkStatus,
} from '../helpers/messages.ts';
import { makeTier } from '../helpers/tier.ts';
import { eventually } from '../../harness/processes.ts';
import { makeAgent, makeNamespace } from '../../harness/grants.ts';
import {
  createQuicTransport,
  createTlsIdentity,
} from '../../src/transport/index.ts';
import { silentLogger } from '../../src/common/logger.ts';
import { Attestation, Entity, Proof } from '../../src/wave/index.ts';
import type { ReceivedMessage } from '../../src/agent/index.ts';

t.test(
  'peer: a designated router whose route proof is for another namespace is refused by the site',
  async (t) => {
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    // A fake designated router on the DR's peer port: a real entity with a
    // valid route proof, but for a different namespace.
    const other = await makeNamespace(tier.root, 'other');
    const impostor = Entity.create();
    const grant = Attestation.create(other.entity, {
      subject: impostor.hash,
      namespace: other.id,
      statements: [{ permissions: ['route'], resource: '*' }],
    });
    const proof = Proof.build({
      subject: impostor.hash,
      namespace: other.id,
      permissions: ['route'],
      resource: '*',
      attestations: [grant],
    });
    const transport = createQuicTransport({ logger: silentLogger() });
    let hellos = 0;
    const listener = await transport.listen({
      host: '127.0.0.1',
      port: tier.dr.peerPort,
      identity: await createTlsIdentity(impostor.signingSeed),
      verifyClient: () => true,
      onConnection: (conn) =>
        conn.onStream(
          (s) =>
            void (async () => {
              for await (const f of s.frames()) {
                if ((f as { t: string }).t !== 'phello') continue;
                hellos += 1;
                await s.send({
                  t: 'pwelcome',
                  v: 1,
                  router: 'impostor',
                  entity: impostor.publicEntity.bytes,
                  proof: proof.bytes,
                  hwm: 0,
                });
              }
            })(),
        ),
    });
    t.teardown(() => listener.stop());
    await site.start();
    const a = await tier.agent('a');
    const agent = await site.connect(a);
    await agent.publish('x/y', 'stays here');
    await uplinkReaches(agent, (s) => s.link === 'refused');
    t.equal((await uplinkStatus(agent)).backlog, 1, 'nothing was handed to it');
    t.ok(hellos >= 1, 'the site did talk to it');
    // The status can arrive before the log line crosses the pipe.
    const warned = await site.proc!.waitForLog(
      (l) => l['msg'] === 'designated router refused',
    );
    t.ok(warned, 'a clear log line');
    t.match(String(warned?.['err']), /route proof/, 'naming the route proof');
  },
);

t.test(
  'peer: a publish valid at the site but refused upstream is counted and reported, and does not block the rest',
  async (t) => {
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    await site.start();
    const a = await tier.agent('a');
    // A grant that lapses while the message waits for the uplink.
    const brief = await makeAgent(tier.root, 'brief', tier.ns, {
      expiryMs: 1500,
    });
    const atSite = await site.connect(a);
    const briefAgent = await site.connect(brief);
    await briefAgent.publish('r/x', 'stale grant');
    await atSite.publish('r/x', 'good');
    await new Promise((r) => setTimeout(r, 2000));
    await tier.dr.start();
    const sub = await (await tier.dr.connect(a)).subscribe('r/*', { id: 'dr' });
    const got: ReceivedMessage[] = [];
    for await (const m of sub) {
      got.push(m);
      sub.ack(m);
      break;
    }
    t.equal(
      Buffer.from(got[0]!.payloads[0]!.content).toString(),
      'good',
      'the next message got through',
    );
    const warned = await eventually(() =>
      site.proc!.logs.find(
        (l) => l['msg'] === 'designated router refused a trunk message',
      ),
    );
    t.match(String(warned['code']), /PROOF_EXPIRED/, 'the site logs why');
    await backlogDrained(atSite);
    t.pass('the refused message does not stay in the backlog');
  },
);

t.test(
  'peer: when the designated router lacks a proof the site resends from there with it in full',
  async (t) => {
    const tier = await makeTier(t, 1);
    const site = tier.sites[0]!;
    // A scripted designated router with a valid route proof.
    const dr = Entity.create();
    const grant = Attestation.create(tier.ns.entity, {
      subject: dr.hash,
      namespace: tier.ns.id,
      statements: [{ permissions: ['route'], resource: '*' }],
    });
    const proof = Proof.build({
      subject: dr.hash,
      namespace: tier.ns.id,
      permissions: ['route'],
      resource: '*',
      attestations: [grant],
    });
    type Batch = {
      items: { seq: number; proof?: Uint8Array; entity?: Uint8Array }[];
      rewind: boolean;
    };
    const batches: Batch[] = [];
    const transport = createQuicTransport({ logger: silentLogger() });
    const listener = await transport.listen({
      host: '127.0.0.1',
      port: tier.dr.peerPort,
      identity: await createTlsIdentity(dr.signingSeed),
      verifyClient: () => true,
      onConnection: (conn) =>
        conn.onStream(
          (s) =>
            void (async () => {
              for await (const f of s.frames()) {
                const frame = f as { t: string } & Batch;
                if (frame.t === 'phello') {
                  await s.send({
                    t: 'pwelcome',
                    v: 1,
                    router: 'scripted',
                    entity: dr.publicEntity.bytes,
                    proof: proof.bytes,
                    hwm: 0,
                  });
                } else if (frame.t === 'tbatch') {
                  batches.push(frame);
                  const first = frame.items[0]!.seq;
                  // Pretend the first batch named a proof unknown here.
                  if (batches.length === 1)
                    await s.send({ t: 'tneed', seq: first });
                  else
                    await s.send({ t: 'tack', seq: frame.items.at(-1)!.seq });
                }
              }
            })(),
        ),
    });
    t.teardown(() => listener.stop());
    await site.start();
    const a = await tier.agent('a');
    const agent = await site.connect(a);
    for (let i = 0; i < 5; i++) await agent.publish('n/x', `m${i}`);
    await backlogDrained(agent);
    const resend = batches.find((b) => b.rewind);
    t.ok(resend, 'a batch marked as the resend came');
    t.equal(
      resend!.items[0]!.seq,
      batches[0]!.items[0]!.seq,
      'it starts where the designated router asked',
    );
    t.ok(
      resend!.items[0]!.proof && resend!.items[0]!.entity,
      'with the proof and entity in full',
    );
    const seqs = batches
      .filter((b) => b !== batches[0])
      .flatMap((b) => b.items.map((i) => i.seq));
    t.same(
      seqs,
      [...new Set(seqs)].sort((x, y) => x - y),
      'no message sent twice after the rewind',
    );
  },
);
