import t from 'tap';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CommandError } from '../../netem/errors.ts';
import { loadProfile, parseProfile } from '../../netem/profile.ts';
import { ManualScheduler } from '../../netem/scheduler.ts';
import {
  applyProfile,
  clearProfile,
  netemArgs,
  netemSupported,
  qdiscCommand,
} from '../../netem/tc.ts';
import type { CommandRunner } from '../../netem/command.ts';

t.test(
  'tc: each shipped profile becomes the netem options it means',
  async (t) => {
    const args = async (name: string) =>
      netemArgs((await loadProfile(name)).up).join(' ');
    t.equal(
      await args('cellular'),
      'delay 100ms 50ms loss random 3% rate 5000000bit limit 1000',
      'cellular',
    );
    t.equal(
      await args('satellite'),
      'delay 300ms loss random 1% rate 2000000bit limit 1000',
      'satellite',
    );
    t.equal(
      await args('lossy'),
      'delay 20ms loss random 10% reorder 10% limit 1000',
      'lossy',
    );
    t.equal(
      await args('bursty'),
      'delay 50ms loss gemodel 1% 25% 100% 0% limit 1000',
      'bursty',
    );
    t.equal(await args('outage'), 'limit 1000', 'schedules add nothing here');
  },
);

t.test(
  'tc: the builder covers jitter shape, duplication and link down',
  async (t) => {
    const p = parseProfile('x', {
      up: {
        delayMs: 12.5,
        jitterMs: 3,
        jitterDistribution: 'normal',
        duplicatePercent: 0.5,
        lossPercent: 2,
        limitPackets: 50,
      },
    });
    t.equal(
      netemArgs(p.up).join(' '),
      'delay 12.5ms 3ms distribution normal loss random 2% duplicate 0.5% limit 50',
    );
    t.equal(
      netemArgs(p.up, { linkDown: true }).join(' '),
      'delay 12.5ms 3ms distribution normal loss random 100% duplicate 0.5% limit 50',
    );
    t.same(
      qdiscCommand('replace', { iface: 'wmq-a0', netns: 'wmq-a' }, p.down),
      [
        'tc',
        '-n',
        'wmq-a',
        'qdisc',
        'replace',
        'dev',
        'wmq-a0',
        'root',
        'netem',
      ].concat(['limit', '1000']),
    );
    t.same(qdiscCommand('del', { iface: 'eth1' }), [
      'tc',
      'qdisc',
      'del',
      'dev',
      'eth1',
      'root',
    ]);
    t.throws(() => qdiscCommand('change', { iface: 'eth1' }), TypeError);
  },
);

t.test('tc: netemSupported agrees with the kernel config', async (t) => {
  const supported = await netemSupported();
  t.equal(await netemSupported(), supported, 'cached and stable');
  let text = '';
  try {
    text = gunzipSync(await readFile('/proc/config.gz')).toString('utf8');
  } catch (err) {
    t.comment(`no kernel config to compare with: ${String(err)}`);
  }
  if (text.includes('# CONFIG_NET_SCH_NETEM is not set')) {
    t.equal(supported, false, 'this kernel has no netem');
  } else if (text.includes('CONFIG_NET_SCH_NETEM=y')) {
    t.equal(supported, true, 'this kernel has netem built in');
  }
  t.comment(`netem supported here: ${supported}`);
});

t.test(
  'tc: the support check reads the config, then probes as root only',
  async (t) => {
    const dir = tmpdir();
    const config = (name: string, line: string) => {
      const path = join(dir, `wmq-kconfig-${process.pid}-${name}`);
      writeFileSync(path, `CONFIG_X=y\n${line}\n`);
      t.teardown(() => import('node:fs').then((fs) => fs.rmSync(path)));
      return path;
    };
    const calls: string[][] = [];
    const run: CommandRunner = async (argv) => {
      calls.push([...argv]);
      return { stdout: '', stderr: '' };
    };
    const yes = config('y', 'CONFIG_NET_SCH_NETEM=y');
    const no = config('n', '# CONFIG_NET_SCH_NETEM is not set');
    const mod = config('m', 'CONFIG_NET_SCH_NETEM=m');
    t.equal(await netemSupported({ configPath: yes, run, root: true }), true);
    t.equal(await netemSupported({ configPath: no, run, root: true }), false);
    t.equal(calls.length, 0, 'a decisive config needs no probe');
    t.equal(await netemSupported({ configPath: mod, run, root: false }), false);
    t.equal(calls.length, 0, 'no probe without root');
    t.equal(await netemSupported({ configPath: mod, run, root: true }), true);
    const ns = calls[0]?.[3];
    t.match(ns, /^wmq-probe-/, 'the probe uses its own namespace');
    t.same(calls.at(-1), ['ip', 'netns', 'del', ns], 'and deletes it');
  },
);

/** A fake tc that records commands; `refuse` makes it answer like this kernel. */
function fakeTc(refuse = false) {
  const calls: string[] = [];
  const run: CommandRunner = async (argv) => {
    calls.push(argv.join(' '));
    if (refuse && argv.includes('netem')) {
      throw new CommandError('tc failed', {
        argv: [...argv],
        exitCode: 2,
        stderr: 'Error: Specified qdisc kind is unknown.',
      });
    }
    return { stdout: '', stderr: '' };
  };
  return { calls, run };
}

t.test(
  'tc: applyProfile drives an outage with qdisc changes, stop clears',
  async (t) => {
    const { calls, run } = fakeTc();
    const scheduler = new ManualScheduler(0);
    const profile = await loadProfile('outage', {
      outageStartMs: 1000,
      outageMs: 500,
      up: { delayMs: 10 },
    });
    const applied = await applyProfile('wmq-a0', profile, {
      netns: 'wmq-a',
      run,
      scheduler,
    });
    const base = 'tc -n wmq-a qdisc';
    t.same(calls, [
      `${base} replace dev wmq-a0 root netem delay 10ms limit 1000`,
    ]);
    scheduler.advanceTo(999);
    t.equal(applied.state(), 'up');
    scheduler.advanceTo(1000);
    t.equal(applied.state(), 'outage');
    scheduler.advanceTo(1500);
    await applied.stop();
    t.same(calls.slice(1), [
      `${base} change dev wmq-a0 root netem delay 10ms loss random 100% limit 1000`,
      `${base} change dev wmq-a0 root netem delay 10ms limit 1000`,
      `${base} del dev wmq-a0 root`,
    ]);
    t.same(applied.unsupported, []);
  },
);

t.test('tc: a kernel without netem is reported as unsupported', async (t) => {
  const { run } = fakeTc(true);
  const profile = await loadProfile('rebind');
  await t.rejects(applyProfile('eth9', profile, { run }), {
    code: 'NETEM_UNSUPPORTED',
    data: { iface: 'eth9' },
  });
});

t.test('tc: clearProfile tolerates an interface without netem', async (t) => {
  const run: CommandRunner = async (argv) => {
    throw new CommandError('tc failed', {
      argv: [...argv],
      exitCode: 2,
      stderr: 'Error: Cannot delete qdisc with handle of zero.',
    });
  };
  await t.resolves(clearProfile('eth9', { run }));
});
