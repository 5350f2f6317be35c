import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { loadConfigFile } from '../../src/config/index.ts';
import { REPO_ROOT, SEED_FIXTURE_DIR } from '../../harness/seed-config.ts';

const SYSTEMD = join(REPO_ROOT, 'systemd');
const INSTALL = join(SYSTEMD, 'install.sh');

function install(...args: string[]) {
  const r = spawnSync('bash', [INSTALL, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** `Key=value` lines of a unit file, comments and sections dropped. */
function directives(file: string): Map<string, string> {
  const text = readFileSync(file, 'utf8');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) out.set(m[1], m[2] ?? '');
  }
  return out;
}

t.test('install.sh: a dry run names the unit and config path', async (t) => {
  const r = install('--dry-run');
  t.equal(r.status, 0, r.err);
  t.match(r.out, /dry run: nothing will be changed/);
  t.match(
    r.out,
    `${SYSTEMD}/wavemq.service /etc/systemd/system/wavemq.service`,
  );
  t.match(r.out, '/etc/wavemq/wavemq.toml');
  t.match(r.out, /npm install --global/);
  t.match(r.out, 'systemctl daemon-reload');
  t.match(r.out, 'systemctl enable --now wavemq.service');
  t.notMatch(r.out, /useradd/);
});

t.test('install.sh: --hardened installs the confined unit', async (t) => {
  const r = install('--dry-run', '--hardened', '--link');
  t.equal(r.status, 0, r.err);
  t.match(r.out, 'wavemq-hardened.service /etc/systemd/system/wavemq.service');
  t.match(r.out, /npm link/);
  t.match(r.out, /\/etc\/wavemq\/wavemq\.toml/);
  if (!/user wavemq exists/.test(r.out)) t.match(r.out, /useradd --system/);
});

t.test('install.sh: an unknown option fails with usage', async (t) => {
  const r = install('--dry-run', '--bogus');
  t.not(r.status, 0);
  t.match(r.err, /unknown option: --bogus/);
  t.match(r.err, /--hardened/);
});

t.test('systemd: both units keep the seed unit settings', async (t) => {
  const seed = directives(join(SEED_FIXTURE_DIR, 'wavemq.service'));
  t.equal(seed.get('Restart'), 'always');
  seed.delete('Description');
  for (const unit of ['wavemq.service', 'wavemq-hardened.service']) {
    const d = directives(join(SYSTEMD, unit));
    for (const [key, value] of seed) {
      t.equal(d.get(key), value, `${unit} ${key}`);
    }
  }
});

t.test('systemd: the hardened unit confines the service', async (t) => {
  const d = directives(join(SYSTEMD, 'wavemq-hardened.service'));
  const want: Record<string, string> = {
    User: 'wavemq',
    StateDirectory: 'wavemq',
    ConfigurationDirectory: 'wavemq',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    NoNewPrivileges: 'yes',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    CapabilityBoundingSet: '',
    SystemCallFilter: '@system-service',
    MemoryDenyWriteExecute: 'no',
  };
  for (const [key, value] of Object.entries(want)) {
    t.equal(d.get(key), value, key);
  }
  t.ok(Number(d.get('LimitNOFILE')) >= 4096, 'LimitNOFILE raised');
});

t.test(
  'systemd: systemd-analyze verify accepts both units',
  {
    skip:
      spawnSync('systemd-analyze', ['--version']).status === 0
        ? false
        : 'systemd-analyze is not installed',
  },
  async (t) => {
    // verify insists that ExecStart exists; point it at node for the check.
    const dir = mkdtempSync(join(tmpdir(), 'wavemq-units-'));
    for (const unit of ['wavemq.service', 'wavemq-hardened.service']) {
      const text = readFileSync(join(SYSTEMD, unit), 'utf8');
      const copy = join(dir, unit);
      writeFileSync(
        copy,
        text.replace('/usr/local/bin/wavemq', process.execPath),
      );
      const r = spawnSync('systemd-analyze', ['verify', copy], {
        encoding: 'utf8',
      });
      t.equal(r.status, 0, `${unit}: ${r.stderr}`);
      // Unknown or misspelt directives are only warnings.
      t.equal(r.stderr.trim(), '', `${unit} verifies without warnings`);
    }
  },
);

t.test('systemd: the config install.sh copies is valid', async (t) => {
  const c = loadConfigFile(join(SYSTEMD, 'wavemq.toml'), { env: {} });
  t.same(c.routing.routers, []);
  t.equal(c.wave.defaultToUnrevoked, true);
  t.equal(c.queue.queueExpiryMs, 86_400_000);
  t.equal(c.routing.routerEntityFile, '/etc/wavemq/router.ent');
  t.same(c.metrics.listenAddr, { host: '127.0.0.1', port: 6060 });
});
