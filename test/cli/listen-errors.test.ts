import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort, runCli } from '../../harness/processes.ts';
import { DEMO_PORT } from '../../src/cli/demo.ts';
import { defaultConfig } from '../../src/config/index.ts';

/** A router config in `dir` whose agent port listens on `listenAddr`. */
async function configFile(dir: string, listenAddr: string): Promise<string> {
  const file = join(dir, `${listenAddr.replace(/\W/g, '_')}.toml`);
  await writeFile(
    file,
    [
      '[WaveConfig]',
      `database = "${join(dir, 'wave')}"`,
      '[QueueConfig]',
      `queueDataStore = "${join(dir, 'queue')}"`,
      '[LocalConfig]',
      `listenAddr = "${listenAddr}"`,
      '[PeerConfig]',
      `listenAddr = "127.0.0.1:${await freePort()}"`,
      '[RoutingConfig]',
      `PersistDataStore = "${join(dir, 'persist')}"`,
      `RouterEntityFile = "${join(dir, 'router.ent')}"`,
      '[MetricsConfig]',
      'listenAddr = ""',
      '',
    ].join('\n'),
  );
  return file;
}

t.test(
  'cli: a listen address that is not usable says why, with the code',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-listen-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const bad = await runCli([await configFile(dir, '256.1.1.1:4616')]);
    t.equal(bad.code, 1);
    t.match(
      bad.stderr,
      "wavemq: cannot listen on 256.1.1.1:4616: invalid address: '256.1.1.1' " +
        'is not a valid IP address (LISTEN_FAILED)',
    );
    const unknown = await runCli([
      await configFile(dir, 'nosuchhost.invalid:4616'),
    ]);
    t.equal(unknown.code, 1);
    t.match(
      unknown.stderr,
      /cannot listen on nosuchhost\.invalid:4616: .+ \((ENOTFOUND|EAI_AGAIN)\) \(LISTEN_FAILED\)/,
    );
  },
);

t.test(
  'cli demo: a --port that is not an integer 1..65535 is refused naming the option',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'wavemq-demo-port-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    for (const port of ['abc', '70000', '0', '1.5']) {
      const r = await runCli(['demo', '--dir', dir, '--port', port], {
        timeoutMs: 30_000,
      });
      t.equal(r.code, 1, `--port ${port} exits 1`);
      t.match(
        r.stderr,
        `wavemq: --port "${port}": the port must be an integer 1..65535 ` +
          '(ADDRESS_INVALID)',
      );
      t.notMatch(r.stdout, 'listening', 'no router started');
    }
  },
);

t.test(
  'cli demo: --help shows the default port, the config default',
  async (t) => {
    t.equal(DEMO_PORT, defaultConfig('/tmp/x').local.listenAddr.port);
    const r = await runCli(['demo', '--help']);
    t.equal(r.code, 0);
    t.match(r.stdout, `(default: ${DEMO_PORT})`);
  },
);
