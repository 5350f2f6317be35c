import t from 'tap';
import { once } from 'node:events';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { isRoot, runCommand, type CommandRunner } from '../../netem/command.ts';
import {
  changeAddress,
  createTopology,
  execInNamespace,
  spawnInNamespace,
  type Topology,
} from '../../netem/netns.ts';
import { loadProfile } from '../../netem/profile.ts';
import { applyProfile, netemSupported } from '../../netem/tc.ts';

/** UDP echo on port 7000 of every address; replies with the source seen. */
const ECHO_JS = `
const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(r.address + ' ' + m, r.port, r.address));
s.bind(7000, '0.0.0.0', () => console.log('ready'));
setTimeout(() => process.exit(0), 20000).unref();
`;

/** Sends argv[1] to argv[2]:7000 and prints the reply, or exits 3. */
const ASK_JS = `
const s = require('dgram').createSocket('udp4');
s.on('message', (m) => { console.log(String(m)); process.exit(0); });
s.send(process.argv[1], 7000, process.argv[2]);
setTimeout(() => process.exit(3), 1000);
`;

async function ask(netns: string, to: string): Promise<string> {
  const { stdout } = await execInNamespace(netns, [
    process.execPath,
    '-e',
    ASK_JS,
    'hello',
    to,
  ]);
  return stdout.trim();
}

async function startEcho(netns: string): Promise<ChildProcess> {
  const child = spawnInNamespace(netns, [process.execPath, '-e', ECHO_JS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(child.stdout!, 'data');
  return child;
}

/** Skips a subtest, with the reason printed, unless running as root. */
const rootOnly = {
  skip: isRoot() ? false : 'needs root to create network namespaces',
};
if (!isRoot()) t.comment('not root: namespace tests are skipped');

async function namespaces(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', 'netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
}

t.test(
  'netns: a site and a router namespace talk UDP over veth, and the site can change address',
  rootOnly,
  async (t) => {
    const topo: Topology = await createTopology({ subnet: 7 });
    t.teardown(() => topo.destroy());
    const names = await namespaces();
    t.ok(names.includes(topo.site.netns), 'site namespace exists');
    t.ok(names.includes(topo.router.netns), 'router namespace exists');
    t.equal(topo.site.address, '10.211.7.1');
    const echo = await startEcho(topo.router.netns);
    t.teardown(() => void echo.kill('SIGKILL'));
    t.equal(
      await ask(topo.site.netns, topo.router.address),
      '10.211.7.1 hello',
      'the echo saw the site address',
    );
    await changeAddress(
      topo.site.netns,
      topo.site.iface,
      '10.211.7.1/24',
      '10.211.7.5/24',
    );
    t.equal(
      await ask(topo.site.netns, topo.router.address),
      '10.211.7.5 hello',
      'after the change the echo sees the new address',
    );
    await topo.destroy();
    await topo.destroy();
    const after = await namespaces();
    t.notOk(after.includes(topo.site.netns), 'site namespace gone');
    t.notOk(after.includes(topo.router.netns), 'router namespace gone');
  },
);

t.test(
  'netns: tc netem on a namespace interface matches the support check',
  rootOnly,
  async (t) => {
    const topo = await createTopology({ subnet: 8 });
    t.teardown(() => topo.destroy());
    const profile = await loadProfile('satellite');
    const supported = await netemSupported();
    const applying = applyProfile(topo.site.iface, profile, {
      netns: topo.site.netns,
    });
    if (supported) {
      const applied = await applying;
      await applied.stop();
      t.pass('netem applied and removed');
    } else {
      await t.rejects(applying, { code: 'NETEM_UNSUPPORTED' });
    }
  },
);

t.test(
  'netns: a failure half way removes what was made',
  rootOnly,
  async (t) => {
    const calls: string[] = [];
    const run: CommandRunner = async (argv) => {
      calls.push(argv.join(' '));
      if (argv.includes('veth')) {
        throw new Error('veth refused');
      }
      return runCommand(argv);
    };
    await t.rejects(createTopology({ tag: 'fail1', run }), /veth refused/);
    const names = await namespaces();
    t.notOk(
      names.some((n) => n.startsWith('wmq-fail1-')),
      'nothing left',
    );
    t.ok(calls.includes('ip netns del wmq-fail1-site'), 'site deleted');
    t.ok(calls.includes('ip netns del wmq-fail1-rtr'), 'router deleted');
  },
);

t.test(
  'netns: refuses addresses outside 10.211.0.0/16 and foreign namespaces',
  rootOnly,
  async (t) => {
    await t.rejects(
      changeAddress('wmq-x-site', 'wmq-x-s', '10.211.0.1/24', '192.168.1.5/24'),
      RangeError,
    );
    await t.rejects(
      changeAddress('other', 'eth0', '10.211.0.1/24', '10.211.0.5/24'),
      RangeError,
    );
    await t.rejects(createTopology({ subnet: 300 }), RangeError);
  },
);

t.test('netns: every helper refuses to run without root', async (t) => {
  const fixture = new URL('./fixtures/not-root.ts', import.meta.url).pathname;
  const args = ['--import', 'tsx', fixture];
  let stdout: string;
  if (isRoot()) {
    // Drop to nobody for the check, as an ordinary user would run it.
    const r = spawnSync(process.execPath, args, {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      env: { ...process.env, HOME: tmpdir() },
      timeout: 20_000,
    });
    stdout = r.stdout;
  } else {
    stdout = spawnSync(process.execPath, args, { encoding: 'utf8' }).stdout;
  }
  t.same(stdout.trim().split('\n'), [
    'createTopology NETEM_NOT_ROOT',
    'execInNamespace NETEM_NOT_ROOT',
    'spawnInNamespace NETEM_NOT_ROOT',
    'changeAddress NETEM_NOT_ROOT',
  ]);
});
