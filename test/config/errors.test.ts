import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  ConfigError,
  loadConfigFile,
  parseConfig,
} from '../../src/config/index.ts';
import { WavemqError } from '../../src/common/index.ts';
import { SEED_FIXTURE_DIR, seedConfigText } from '../../harness/seed-config.ts';

const FILE = '/etc/wavemq/wavemq.toml';
const NS = 'GyAlyQyfJuai4MCyg6Rx9KkxnZZXWyDaIo0EXGY9-WEq6w';

/** Asserts that `text` is rejected naming `key`, the file and `expected`. */
function rejects(t: Test, text: string, key: string, expected: RegExp): void {
  try {
    parseConfig(text, FILE, { env: {} });
    t.fail(`accepted; expected an error naming ${key}`);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    t.equal(err.code, 'CONFIG_INVALID');
    t.equal(err.data.file, FILE);
    t.equal(err.data.key, key);
    t.match(err.message, `${FILE}: ${key}: `);
    t.match(err.message, expected);
  }
}

t.test('config error: is a WavemqError with a stable code', async (t) => {
  const err = new ConfigError('x', { file: 'f', key: 'k' });
  t.ok(err instanceof WavemqError);
  t.equal(err.code, 'CONFIG_INVALID');
  t.same(err.data, { file: 'f', key: 'k' });
});

t.test('config: the template fails on its namespace placeholder', async (t) => {
  const file = join(SEED_FIXTURE_DIR, 'wavemq.template.toml');
  const err = t.throws(() => loadConfigFile(file, { env: {} })) as unknown;
  t.ok(err instanceof ConfigError);
  if (!(err instanceof ConfigError)) return;
  t.equal(err.data.key, 'RoutingConfig.Router[0].Namespace');
  t.equal(err.data.file, file);
  const lines = err.message.split('\n');
  t.match(lines[0], `${file}: RoutingConfig.Router[0].Namespace: expected`);
  t.match(lines[0], /namespace hash/);
  t.match(lines[0], /"the namespace you are interacting with"/);
  t.match(lines[0], /placeholder/);
  t.match(lines[1], 'RoutingConfig.Router[0].Address: expected host:port');
});

t.test('config: an unknown key is named with its section', async (t) => {
  rejects(
    t,
    '[QueueConfig]\nqueueExpiryy = 5\n',
    'QueueConfig.queueExpiryy',
    /unknown key; expected one of .*queueExpiry,/,
  );
  rejects(t, '[Queues]\nx = 1\n', 'Queues', /unknown section/);
  rejects(
    t,
    'queueExpiry = 5\n[QueueConfig]\n',
    'queueExpiry',
    /key outside any section; keys go in the sections .*QueueConfig/,
  );
  rejects(
    t,
    `[[RoutingConfig.Router]]
    Namespace = "${NS}"
    Address = "a:1"
    colour = "red"`,
    'RoutingConfig.Router[0].colour',
    /unknown key/,
  );
  rejects(
    t,
    '[WaveConfig.storage.default]\nurl = "http://a"\nkey = "k"\n',
    'WaveConfig.storage.default.key',
    /unknown key/,
  );
});

t.test('config: an ill-typed value is named and not coerced', async (t) => {
  rejects(
    t,
    '[QueueConfig]\nsubscriptionQueueMaxLength = "lots"\n',
    'QueueConfig.subscriptionQueueMaxLength',
    /expected a whole number greater than 0, got "lots"/,
  );
  rejects(
    t,
    '[QueueConfig]\nqueueExpiry = "10"\n',
    'QueueConfig.queueExpiry',
    /expected a number of seconds/,
  );
  rejects(
    t,
    '[WaveConfig]\ndefaultToUnrevoked = "yes"\n',
    'WaveConfig.defaultToUnrevoked',
    /expected true or false, got "yes"/,
  );
  rejects(
    t,
    '[QueueConfig]\ntrunkingQueueMaxLength = 1.5\n',
    'QueueConfig.trunkingQueueMaxLength',
    /whole number/,
  );
  rejects(
    t,
    '[LocalConfig]\nlistenAddr = 4516\n',
    'LocalConfig.listenAddr',
    /expected host:port/,
  );
  rejects(
    t,
    '[RoutingConfig]\nDesignatedNamespaceFiles = ["a", 3]\n',
    'RoutingConfig.DesignatedNamespaceFiles[1]',
    /file system path/,
  );
  rejects(
    t,
    '[RoutingConfig]\nRouter = "dr:4515"\n',
    'RoutingConfig.Router',
    /array of tables/,
  );
  rejects(t, 'QueueConfig = 5\n', 'QueueConfig', /expected a table/);
  for (const [written, shown] of [
    ['1.5e400', 'Infinity'],
    ['inf', 'Infinity'],
    ['nan', 'NaN'],
  ]) {
    rejects(
      t,
      `[QueueConfig]\nqueueExpiry = ${written}\n`,
      'QueueConfig.queueExpiry',
      new RegExp(`got ${shown}$`),
    );
  }
});

t.test('config: zero and negative limits and intervals fail', async (t) => {
  const keys = [
    'queueExpiry',
    'subscriptionQueueMaxLength',
    'subscriptionQueueMaxSize',
    'trunkingQueueMaxLength',
    'trunkingQueueMaxSize',
    'flushInterval',
  ];
  for (const key of keys) {
    for (const v of [0, -1]) {
      rejects(
        t,
        `[QueueConfig]\n${key} = ${v}\n`,
        `QueueConfig.${key}`,
        /greater than 0/,
      );
    }
  }
  // Node fires longer timers after 1 ms, which would spin the loop.
  rejects(
    t,
    '[QueueConfig]\nflushInterval = 3000000\n',
    'QueueConfig.flushInterval',
    /at most 2147483/,
  );
});

t.test('config: addresses need a host and a port in range', async (t) => {
  const bad: [string, RegExp][] = [
    ['127.0.0.1', /expected host:port/],
    ['127.0.0.1:0', /1\.\.65535/],
    ['127.0.0.1:65536', /1\.\.65535/],
    ['host:port', /port must be a number/],
    [':4515', /host is missing/],
    ['::1:4515', /needs brackets/],
    ['[nothost]:1', /bad IPv6/],
    ['bad_host!:1', /bad host name/],
  ];
  for (const [addr, why] of bad) {
    rejects(
      t,
      `[PeerConfig]\nlistenAddr = "${addr}"\n`,
      'PeerConfig.listenAddr',
      why,
    );
  }
});

t.test('config: namespaces must be 34- or 36-byte multihashes', async (t) => {
  const short = Buffer.from([0x1b, 0x20, 1, 2, 3]).toString('base64url');
  const sha = Buffer.concat([Buffer.from([0x12, 0x20]), Buffer.alloc(32)]);
  for (const ns of [short, sha.toString('base64url'), `${NS}!`, '']) {
    rejects(
      t,
      `[[RoutingConfig.Router]]
      Namespace = "${ns}"
      Address = "dr:4515"`,
      'RoutingConfig.Router[0].Namespace',
      /namespace hash/,
    );
  }
});

t.test('config: a required entry key that is missing is named', async (t) => {
  rejects(
    t,
    `[[RoutingConfig.Router]]\nNamespace = "${NS}"\n`,
    'RoutingConfig.Router[0].Address',
    /missing; expected host:port/,
  );
  rejects(
    t,
    '[WaveConfig.storage.default]\nprovider = "http_v1"\n',
    'WaveConfig.storage.default.url',
    /missing; expected an http/,
  );
});

t.test('config: storage needs http_v1 and a default provider', async (t) => {
  rejects(
    t,
    '[WaveConfig.storage.default]\nprovider = "s3"\nurl = "http://a"',
    'WaveConfig.storage.default.provider',
    /"http_v1"/,
  );
  rejects(
    t,
    '[WaveConfig.storage.default]\nurl = "ftp://a"',
    'WaveConfig.storage.default.url',
    /http:\/\/ or https:\/\//,
  );
  rejects(
    t,
    '[WaveConfig.storage.mine]\nurl = "http://a"',
    'WaveConfig.storage',
    /provider named "default" is required/,
  );
});

t.test('config: two routers for one namespace fail', async (t) => {
  const padded = 'GyAlyQyfJuai4MCyg6Rx9KkxnZZXWyDaIo0EXGY9+WEq6w==';
  rejects(
    t,
    `[[RoutingConfig.Router]]
    Namespace = "${NS}"
    Address = "dr1.example.org:4515"
    [[RoutingConfig.Router]]
    Namespace = "${padded}"
    Address = "dr2.example.org:4515"`,
    'RoutingConfig.Router[1].Namespace',
    /same namespace as RoutingConfig.Router\[0\]/,
  );
});

t.test('config: one key set twice in different case fails', async (t) => {
  rejects(
    t,
    '[QueueConfig]\nqueueExpiry = 1\nQUEUEEXPIRY = 2\n',
    'QueueConfig.QUEUEEXPIRY',
    /set twice/,
  );
  rejects(
    t,
    '[queueconfig]\nqueueExpiry = 1\n[QueueConfig]\nqueueexpiry = 2',
    'QueueConfig.queueexpiry',
    /set twice/,
  );
});

t.test('config: broken TOML names the file, line and column', async (t) => {
  const text = seedConfigText().replace(
    'queueExpiry = 86400',
    'queueExpiry = = 86400',
  );
  const err = t.throws(() => parseConfig(text, FILE)) as unknown;
  t.ok(err instanceof ConfigError);
  if (!(err instanceof ConfigError)) return;
  t.equal(err.data.key, undefined);
  t.equal(err.data.line, 16);
  t.ok(typeof err.data.column === 'number' && err.data.column > 0);
  t.match(err.message, `${FILE}:16:${err.data.column}: not valid TOML`);
});

t.test('config: a bad METRICS_ADDRESS is named with its source', async (t) => {
  const err = t.throws(() =>
    parseConfig('', FILE, { env: { METRICS_ADDRESS: 'localhost' } }),
  ) as unknown;
  t.ok(err instanceof ConfigError);
  if (!(err instanceof ConfigError)) return;
  t.equal(err.data.key, 'MetricsConfig.listenAddr');
  t.match(err.message, /set by METRICS_ADDRESS/);
});

t.test('config: a missing file is named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wavemq-config-'));
  const file = join(dir, 'nope.toml');
  const err = t.throws(() => loadConfigFile(file)) as unknown;
  t.ok(err instanceof ConfigError);
  if (!(err instanceof ConfigError)) return;
  t.same(err.data, { file, key: undefined });
  t.match(err.message, `${file}: config file not found`);
  const dirErr = t.throws(() => loadConfigFile(dir)) as unknown;
  t.match(String(dirErr), /cannot read config file \(EISDIR\)/);
});

t.test('config: every problem in a file is listed at once', async (t) => {
  const err = t.throws(() =>
    parseConfig('[QueueConfig]\nqueueExpiry = 0\nflushInterval = -5\n', FILE),
  ) as unknown;
  if (!(err instanceof ConfigError)) return t.fail('not a ConfigError');
  const lines = err.message.split('\n');
  t.equal(lines.length, 2);
  t.match(lines[1], `${FILE}: QueueConfig.flushInterval: `);
});
