import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import t, { type Test } from 'tap';
import {
  defaultConfig,
  loadConfigFile,
  parseConfig,
  type RouterConfig,
} from '../../src/config/index.ts';
import {
  relocatedSeedConfig,
  seedConfigText,
  SEED_FIXTURE_DIR,
  SHARED_SEED_DIR,
} from '../../harness/seed-config.ts';

const MiB = 1024 * 1024;
const SEED_NS = 'GyAlyQyfJuai4MCyg6Rx9KkxnZZXWyDaIo0EXGY9-WEq6w';
const noEnv = { env: {} };

function checkSeedValues(t: Test, c: RouterConfig): void {
  t.equal(c.wave.databasePath, '/var/lib/wavemq/wave');
  t.equal(c.wave.defaultToUnrevoked, true);
  t.same(c.wave.storage, {
    default: {
      provider: 'http_v1',
      url: 'https://standalone.storage.bwave.io/v1',
      version: '1',
    },
  });
  t.same(c.queue, {
    dataStorePath: '/var/lib/wavemq/queue',
    queueExpiryMs: 86_400_000,
    subscriptionQueueMaxLength: 10_000,
    subscriptionQueueMaxBytes: 100 * MiB,
    trunkingQueueMaxLength: 100_000,
    trunkingQueueMaxBytes: 1000 * MiB,
    flushIntervalMs: 30_000,
  });
  t.same(c.local.listenAddr, { host: '127.0.0.1', port: 4516 });
  t.same(c.peer.listenAddr, { host: '127.0.0.1', port: 4515 });
  t.same(c.routing, {
    persistDataStorePath: '/var/lib/wavemq/queue',
    routerEntityFile: '/etc/wavemq/router.ent',
    designatedNamespaceFiles: [],
    routers: [
      {
        namespace: SEED_NS,
        address: { host: 'wavemq.xbos.io', port: 4515 },
      },
    ],
  });
  t.same(c.metrics.listenAddr, { host: '127.0.0.1', port: 6060 });
}

t.test('config: the seed wavemq.toml loads with its values', async (t) => {
  const file = join(SEED_FIXTURE_DIR, 'wavemq.toml');
  const config = loadConfigFile(file, noEnv);
  t.equal(config.file, file);
  checkSeedValues(t, config);
});

const sharedSeed = join(SHARED_SEED_DIR, 'wavemq.toml');
t.test(
  'config: the shared seed file matches the kept copy and loads',
  { skip: existsSync(sharedSeed) ? false : `no ${sharedSeed}` },
  async (t) => {
    t.equal(readFileSync(sharedSeed, 'utf8'), seedConfigText());
    checkSeedValues(t, loadConfigFile(sharedSeed, noEnv));
  },
);

t.test('config: an empty file gives the documented defaults', async (t) => {
  const c = parseConfig('', '/etc/wavemq/wavemq.toml', noEnv);
  t.equal(c.wave.databasePath, '/var/lib/wavemq/wave');
  t.equal(c.wave.defaultToUnrevoked, false);
  t.same(Object.keys(c.wave.storage), ['default']);
  t.equal(c.queue.dataStorePath, '/var/lib/wavemq/queue');
  t.equal(c.queue.queueExpiryMs, 86_400_000);
  t.equal(c.queue.subscriptionQueueMaxLength, 10_000);
  t.equal(c.queue.subscriptionQueueMaxBytes, 100 * MiB);
  t.equal(c.queue.trunkingQueueMaxLength, 100_000);
  t.equal(c.queue.trunkingQueueMaxBytes, 1000 * MiB);
  t.equal(c.queue.flushIntervalMs, 30_000);
  t.equal(c.routing.persistDataStorePath, '/var/lib/wavemq/persist');
  t.equal(c.routing.routerEntityFile, '/etc/wavemq/router.ent');
  t.same(c.routing.designatedNamespaceFiles, []);
  t.same(c.routing.routers, []);
  t.same(c.local.listenAddr, { host: '127.0.0.1', port: 4516 });
  t.same(c.peer.listenAddr, { host: '127.0.0.1', port: 4515 });
  t.same(c.metrics.listenAddr, { host: '127.0.0.1', port: 6060 });
});

t.test('config: converts seconds to ms and MiB to bytes once', async (t) => {
  const text = `
    [QueueConfig]
    queueExpiry = 2
    flushInterval = 0.25
    subscriptionQueueMaxSize = 0.5
    trunkingQueueMaxSize = 3
  `;
  const q = parseConfig(text, 'x.toml', noEnv).queue;
  t.equal(q.queueExpiryMs, 2000);
  t.equal(q.flushIntervalMs, 250);
  t.equal(q.subscriptionQueueMaxBytes, MiB / 2);
  t.equal(q.trunkingQueueMaxBytes, 3 * MiB);
});

t.test('config: section and key names match regardless of case', async (t) => {
  const text = `
    [queueconfig]
    QUEUEEXPIRY = 10
    FlushInterval = 5
    [ROUTINGCONFIG]
    persistdatastore = "/data/persist"
    designatednamespacefiles = ["/etc/wavemq/a.pem"]
    [[routingconfig.router]]
    namespace = "${SEED_NS}"
    ADDRESS = "dr.example.org:4515"
    [wAVEcONFIG.STORAGE.default]
    PROVIDER = "http_v1"
    Url = "http://127.0.0.1:8080/v1"
  `;
  const c = parseConfig(text, 'x.toml', noEnv);
  t.equal(c.queue.queueExpiryMs, 10_000);
  t.equal(c.queue.flushIntervalMs, 5000);
  t.equal(c.routing.persistDataStorePath, '/data/persist');
  t.same(c.routing.designatedNamespaceFiles, ['/etc/wavemq/a.pem']);
  t.same(c.routing.routers[0]?.address, {
    host: 'dr.example.org',
    port: 4515,
  });
  t.equal(c.wave.storage['default']?.url, 'http://127.0.0.1:8080/v1');
});

t.test('config: keys the original never used are accepted', async (t) => {
  const text = `
    [WaveConfig]
    listenIp = "127.0.0.1:4516"
    httpListenIp = "127.0.0.1:778"
    listenUnix = "/run/waved.sock"
    [WaveConfig.storage.default]
    url = "https://storage.example.org/v1"
    v1key = "-----BEGIN PUBLIC KEY-----"
    v1auditors = "https://a.example.org;https://b.example.org"
  `;
  const c = parseConfig(text, 'x.toml', noEnv);
  t.same(c.wave.storage, {
    default: {
      provider: 'http_v1',
      url: 'https://storage.example.org/v1',
      version: '1',
    },
  });
});

t.test('config: a storage table replaces the built-in one', async (t) => {
  const text = `
    [WaveConfig.storage.default]
    url = "https://storage.example.org/v1"
    [WaveConfig.storage.local]
    url = "http://127.0.0.1:8080/v1"
  `;
  const c = parseConfig(text, 'x.toml', noEnv);
  t.same(Object.keys(c.wave.storage).sort(), ['default', 'local']);
  t.equal(c.wave.storage['default']?.url, 'https://storage.example.org/v1');
});

t.test('config: namespaces are canonicalised to base64url', async (t) => {
  const padded = 'GyAlyQyfJuai4MCyg6Rx9KkxnZZXWyDaIo0EXGY9+WEq6w==';
  const text = `
    [[RoutingConfig.Router]]
    Namespace = "${padded}"
    Address = "[::1]:4515"
  `;
  const [r] = parseConfig(text, 'x.toml', noEnv).routing.routers;
  t.equal(r?.namespace, SEED_NS);
  t.same(r?.address, { host: '::1', port: 4515 });
});

t.test('config: relative paths are taken from the file folder', async (t) => {
  const text = `
    [QueueConfig]
    queueDataStore = "data/queue"
    [RoutingConfig]
    DesignatedNamespaceFiles = ["proofs/ns.pem"]
  `;
  const c = parseConfig(text, '/srv/wavemq/wavemq.toml', noEnv);
  t.equal(c.queue.dataStorePath, '/srv/wavemq/data/queue');
  t.same(c.routing.designatedNamespaceFiles, ['/srv/wavemq/proofs/ns.pem']);
});

t.test('config: METRICS_ADDRESS overrides and "" disables', async (t) => {
  const text = '[MetricsConfig]\nlistenAddr = "127.0.0.1:7070"\n';
  const fromFile = parseConfig(text, 'x.toml', noEnv);
  t.same(fromFile.metrics.listenAddr, { host: '127.0.0.1', port: 7070 });
  const env = { METRICS_ADDRESS: '0.0.0.0:9100' };
  const fromEnv = parseConfig(text, 'x.toml', { env });
  t.same(fromEnv.metrics.listenAddr, { host: '0.0.0.0', port: 9100 });
  const off = parseConfig('', 'x.toml', { env: { METRICS_ADDRESS: '' } });
  t.equal(off.metrics.listenAddr, undefined);
  const offInFile = '[MetricsConfig]\nlistenAddr = ""\n';
  t.equal(
    parseConfig(offInFile, 'x.toml', noEnv).metrics.listenAddr,
    undefined,
  );
});

t.test('config: defaultConfig is valid and kept inside its dir', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wavemq-config-'));
  const c = defaultConfig(dir);
  const paths = [
    c.wave.databasePath,
    c.queue.dataStorePath,
    c.routing.persistDataStorePath,
    c.routing.routerEntityFile,
  ];
  for (const p of paths) {
    const rel = relative(dir, p);
    t.ok(rel !== '' && !rel.startsWith('..') && !isAbsolute(rel), p);
  }
  t.equal(new Set(paths).size, paths.length, 'no two stores share a path');
  t.equal(c.file, undefined);
  t.equal(c.wave.defaultToUnrevoked, true);
  t.same(c.local.listenAddr, { host: '127.0.0.1', port: 4516 });
  t.same(c.peer.listenAddr, { host: '127.0.0.1', port: 4515 });
  t.same(c.routing.routers, []);
  t.same(c.metrics.listenAddr, { host: '127.0.0.1', port: 6060 });
  t.ok(c.queue.flushIntervalMs > 0 && c.queue.queueExpiryMs > 0);
});

t.test(
  'config: the relocated seed loads with the test dir and ports',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'wavemq-seed-'));
    const text = relocatedSeedConfig(dir, 41001, 41002, 41003, {
      metricsAddr: '',
    });
    const file = join(dir, 'wavemq.toml');
    writeFileSync(file, text);
    const c = loadConfigFile(file, noEnv);
    t.equal(c.wave.databasePath, join(dir, 'wave'));
    t.equal(c.queue.dataStorePath, join(dir, 'queue'));
    t.equal(c.routing.persistDataStorePath, join(dir, 'queue'));
    t.equal(c.routing.routerEntityFile, join(dir, 'router.ent'));
    t.same(c.routing.routers[0]?.address, { host: '127.0.0.1', port: 41001 });
    t.same(c.local.listenAddr, { host: '127.0.0.1', port: 41002 });
    t.same(c.peer.listenAddr, { host: '127.0.0.1', port: 41003 });
    t.equal(c.metrics.listenAddr, undefined);
    // Every other line of the users' file is untouched.
    const seedLines = seedConfigText().split('\n');
    const lines = text.split('\n').slice(0, seedLines.length);
    const changed = lines.filter((l, i) => l !== seedLines[i]);
    t.equal(changed.length, 7, 'four path lines and three addresses');
    t.ok(text.endsWith('\n[MetricsConfig]\n  listenAddr = ""\n'));
  },
);
