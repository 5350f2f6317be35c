import t from 'tap';
import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { makeSite } from '../helpers/site.ts';
import { eventually, runCli } from '../../harness/processes.ts';
import { SEED_FIXTURE_DIR } from '../../harness/seed-config.ts';

t.test(
  "seed config: the router starts from the users' file, serves agents, retries the uplink quietly",
  async (t) => {
    const site = await makeSite(t);
    const router = await site.start();
    const alice = await site.agent('alice');

    const sub = await (
      await site.connect(alice)
    ).subscribe('seed/*', { id: 'seed' });
    const pub = await runCli([
      'pub',
      'seed/hello',
      'hi there',
      ...site.cliArgs(alice),
    ]);
    t.equal(pub.code, 0, `pub exits 0 (${pub.stderr})`);
    const it = sub[Symbol.asyncIterator]();
    const first = await it.next();
    t.equal(first.done, false);
    if (!first.done) {
      t.equal(first.value.uri, 'seed/hello');
      t.equal(
        Buffer.from(first.value.payloads[0]!.content).toString(),
        'hi there',
      );
    }

    // The designated router's address is an unused port: the uplink keeps
    // trying, and the status says so.
    const attempts = await eventually(
      async () => {
        const st = await runCli(['status', '--json', ...site.cliArgs(alice)]);
        const ns = (
          JSON.parse(st.stdout) as {
            namespaces: { connectAttempts: number; link: string }[];
          }
        ).namespaces[0];
        return ns && ns.connectAttempts >= 2 ? ns : undefined;
      },
      60_000,
      1000,
    );
    t.equal(attempts.link, 'connecting', 'link is not up');
    const uplinkLogs = router.logs.filter((l) => l['component'] === 'uplink');
    t.ok(
      uplinkLogs.filter((l) => Number(l['level']) >= 40).length === 0,
      'no warnings or errors about the uplink',
    );
    t.ok(
      uplinkLogs.filter((l) => Number(l['level']) === 30).length <= 1,
      'at most one info line about it',
    );
    t.ok(router.proc.exitCode === null, 'router still running');

    // The router entity was created on first start, for its owner only,
    // and the router keeps its id and entity across a restart.
    const mode = (await stat(join(site.dir, 'router.ent'))).mode & 0o777;
    t.equal(mode, 0o600, 'router.ent is mode 0600');
    const status = [
      'status',
      '--json',
      '--router',
      `127.0.0.1:${site.agentPort}`,
    ];
    const before = await runCli(status);
    await router.kill('SIGKILL');
    await site.start();
    const after = await runCli(status);
    const ids = (r: { stdout: string }): { router: string; entity: string } =>
      JSON.parse(r.stdout) as { router: string; entity: string };
    t.equal(
      ids(after).router,
      ids(before).router,
      'same router id after a restart',
    );
    t.equal(ids(after).entity, ids(before).entity, 'same router entity');
  },
);

t.test(
  'seed config: the template with placeholders is refused naming the key',
  async (t) => {
    const r = await runCli([join(SEED_FIXTURE_DIR, 'wavemq.template.toml')]);
    t.not(r.code, 0, 'exits non-zero');
    t.match(
      r.stderr,
      /RoutingConfig\.Router\[0\]\.Namespace/,
      'names the placeholder key',
    );
    t.match(r.stderr, /wavemq\.template\.toml/, 'names the file');
  },
);
