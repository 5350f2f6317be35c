import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  eventually,
  freeTcpPort,
  runCli,
  spawnCli,
} from '../../harness/processes.ts';
import { writeSecretFile } from '../../src/common/secret-file.ts';
import type { NamespaceId } from '../../src/common/ids.ts';
import {
  Attestation,
  Entity,
  HttpStorageProvider,
  toBase64Url,
} from '../../src/wave/index.ts';

/** Starts `wavemq storage serve` and waits for the URL it prints. */
async function serve(
  t: Test,
  data: string,
  listen = '127.0.0.1:0',
): Promise<{ url: string; stop: () => Promise<number | null> }> {
  const proc = spawnCli([
    'storage',
    'serve',
    '--data',
    data,
    '--listen',
    listen,
  ]);
  const url = await eventually(
    () => /^(http:\/\/\S+\/v1)$/m.exec(proc.output())?.[1],
  );
  const stop = async (): Promise<number | null> => {
    if (proc.proc.exitCode === null) proc.proc.kill('SIGTERM');
    return (await proc.done).code;
  };
  t.teardown(stop);
  return { url, stop };
}

async function files(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-revoke-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ns = Entity.create({ expiryMs: 3600_000 });
  const nsFile = join(dir, 'ns.ent');
  await writeSecretFile(nsFile, ns.encodeSecret());
  const agent = Entity.create({ expiryMs: 3600_000 });
  const agentFile = join(dir, 'agent.ent');
  await writeSecretFile(agentFile, agent.encodeSecret('open sesame'));
  const passFile = join(dir, 'pass');
  await writeFile(passFile, 'open sesame\n');
  const grant = Attestation.create(ns, {
    subject: agent.hash,
    namespace: ns.hash as string as NamespaceId,
    statements: [{ permissions: ['publish'], resource: 'a/*' }],
    expiryMs: 3600_000,
  });
  const grantFile = join(dir, 'agent.grant');
  await writeFile(grantFile, grant.encodeFile());
  return { dir, ns, nsFile, agent, agentFile, passFile, grant, grantFile };
}

t.test(
  'cli: storage serve prints its URL; revoke publishes a grant and an entity secret, and storage get finds them',
  async (t) => {
    const f = await files(t);
    const server = await serve(t, join(f.dir, 'db'));
    const check = new HttpStorageProvider({ name: 'check', url: server.url });
    t.equal(await check.isRevoked(f.grant.revocationCommitment), false);

    const g = await runCli([
      'revoke',
      '--storage',
      server.url,
      '--grant',
      f.grantFile,
      '--attester',
      f.nsFile,
    ]);
    t.equal(g.code, 0, g.stderr);
    t.match(g.stdout, `revoked attestation ${f.grant.hash}`);
    t.match(
      g.stdout,
      `commitment ${toBase64Url(f.grant.revocationCommitment)}`,
    );

    const e = await runCli([
      'revoke',
      '--storage',
      server.url,
      '--entity',
      f.agentFile,
      '--passphrase-file',
      f.passFile,
      '--json',
    ]);
    t.equal(e.code, 0, e.stderr);
    const out = JSON.parse(e.stdout) as Record<string, unknown>;
    t.match(out, {
      kind: 'entity',
      hash: f.agent.hash,
      commitment: toBase64Url(f.agent.publicEntity.revocationCommitment),
      storage: server.url,
    });

    const fresh = new HttpStorageProvider({ name: 'fresh', url: server.url });
    t.equal(await fresh.isRevoked(f.grant.revocationCommitment), true);
    t.equal(
      await fresh.isRevoked(f.agent.publicEntity.revocationCommitment),
      true,
    );
    const got = await runCli([
      'storage',
      'get',
      '--storage',
      server.url,
      String(out['object']),
    ]);
    t.equal(got.code, 0, got.stderr);
    t.match(got.stdout, `${String(out['object'])}: stored, 32 bytes`);
    t.equal(await server.stop(), 0, 'SIGTERM stops the server cleanly');
  },
);

t.test('cli: revoke errors name the option or file at fault', async (t) => {
  const f = await files(t);
  const server = await serve(t, join(f.dir, 'db'));
  const other = join(f.dir, 'other.ent');
  await writeSecretFile(other, Entity.create().encodeSecret());
  const cases: [string[], RegExp][] = [
    [['--grant', f.grantFile], /--grant .* needs --attester/],
    [
      ['--grant', f.grantFile, '--attester', other],
      /--attester .*other\.ent is entity .*, but the grant in .* was made by/,
    ],
    [['--entity', f.nsFile, '--grant', f.grantFile], /not both/],
    [[], /say what to revoke/],
    [['--entity', f.agentFile], /agent\.ent: .*passphrase/i],
    [['--entity', f.grantFile], /holds attestation, not an entity secret/],
    [
      ['--grant', f.nsFile, '--attester', f.nsFile],
      /holds entity-secret, not a grant/,
    ],
  ];
  for (const [args, text] of cases) {
    const r = await runCli(['revoke', '--storage', server.url, ...args]);
    t.equal(r.code, 1, `${args.join(' ')}: exit 1`);
    t.match(r.stderr, text, `${args.join(' ')}: ${r.stderr.trim()}`);
  }
  const badUrl = await runCli([
    'revoke',
    '--storage',
    'nowhere',
    '--entity',
    f.nsFile,
  ]);
  t.match(
    badUrl.stderr,
    /--storage: storage option url: 'nowhere' is not a URL/,
  );
  const port = await freeTcpPort();
  const down = await runCli([
    'revoke',
    '--storage',
    `http://127.0.0.1:${port}/v1`,
    '--entity',
    f.nsFile,
  ]);
  t.equal(down.code, 1);
  t.match(
    down.stderr,
    `http://127.0.0.1:${port}/v1) unreachable: ECONNREFUSED`,
  );
  t.match(down.stderr, '(STORAGE_UNAVAILABLE)');
  const badListen = await runCli([
    'storage',
    'serve',
    '--data',
    join(f.dir, 'db2'),
    '--listen',
    'nowhere',
  ]);
  t.equal(badListen.code, 1);
  t.match(badListen.stderr, /--listen: address "nowhere": expected host:port/);
});
