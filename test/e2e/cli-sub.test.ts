import t from 'tap';
import { subscriptionExists } from '../helpers/messages.ts';
import { makeSite } from '../helpers/site.ts';
import { eventually, runCli, spawnCli } from '../../harness/processes.ts';

t.test(
  'cli sub: survives a router restart, printing every message once',
  async (t) => {
    const site = await makeSite(t);
    await site.start();
    const a = await site.agent('a');
    const sub = spawnCli([
      'sub',
      'c/*',
      '--id',
      'cli',
      '--count',
      '20',
      ...site.cliArgs(a),
    ]);
    await subscriptionExists(site.agentPort);
    const first =
      Array.from({ length: 10 }, (_, i) => `m${i}`).join('\n') + '\n';
    t.equal(
      (
        await runCli(['pub', 'c/x', '--lines', ...site.cliArgs(a)], {
          input: first,
        })
      ).code,
      0,
    );
    await eventually(() =>
      sub.output().split('\n').length > 10 ? true : undefined,
    );
    await site.router!.kill('SIGKILL');
    await site.start();
    const rest =
      Array.from({ length: 10 }, (_, i) => `m${i + 10}`).join('\n') + '\n';
    t.equal(
      (
        await runCli(['pub', 'c/x', '--lines', ...site.cliArgs(a)], {
          input: rest,
        })
      ).code,
      0,
    );
    const res = await sub.done;
    t.equal(res.code, 0, `sub exits 0 after its count (${res.stderr})`);
    t.same(
      res.stdout.trim().split('\n'),
      Array.from({ length: 20 }, (_, i) => `m${i}`),
      'all 20, once, in order',
    );
    t.match(res.stderr, /reconnecting/, 'it said it was reconnecting');
  },
);
