// The Mosquitto baseline's parts: broker configuration, finding the
// binary, and a short run of the real brokers through the TCP relay.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runBaseline } from '../../netem/baseline.ts';
import { isRoot } from '../../netem/command.ts';
import { brokerConfig, findMosquitto } from '../../netem/mosquitto.ts';
import { loadProfile } from '../../netem/profile.ts';

t.test(
  'mosquitto: a bridging site broker forwards QoS 1, keeps its session',
  async (t) => {
    const site = brokerConfig(
      { port: 1900, dataDir: '/d' },
      {
        address: { host: '127.0.0.1', port: 1901 },
        topic: 'netem/#',
        keepAliveS: 2,
      },
    );
    t.match(site, /^listener 1900 127\.0\.0\.1$/m);
    t.match(site, /^persistence_location \/d\/$/m);
    t.match(site, /^max_queued_messages 0$/m, 'no configured queue limit');
    t.match(site, /^address 127\.0\.0\.1:1901$/m);
    t.match(site, /^topic netem\/# out 1$/m);
    t.match(site, /^cleansession false$/m);
    t.match(site, /^keepalive_interval 5$/m, "raised to Mosquitto's minimum");
    const cloud = brokerConfig({ port: 1901, dataDir: '/c' });
    t.notMatch(cloud, /connection/, 'no bridge without one');
  },
);

t.test('mosquitto: the binary is found on PATH', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wavemq-mosq-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fake = join(dir, 'mosquitto');
  await writeFile(fake, '#!/bin/sh\nexit 0\n');
  await chmod(fake, 0o755);
  t.equal(findMosquitto(`/nonexistent:${dir}`), fake);
});

const available = findMosquitto() !== undefined || isRoot();

t.test(
  'mosquitto baseline: on a clean link the bridge delivers every message once',
  {
    skip: available
      ? false
      : 'mosquitto is not installed and installing it needs root',
  },
  async (t) => {
    const r = await runBaseline({
      profile: await loadProfile('plain'),
      seed: 1,
      seconds: 2,
      ratePerSecond: 25,
      payloadBytes: 256,
      leadInMs: 500,
      keepAliveS: 5,
      drainTimeoutMs: 30_000,
    });
    t.equal(r.published, 50, 'every publish acknowledged by the site broker');
    t.equal(r.delivered, 50, 'every message crossed the bridge');
    t.equal(r.duplicated, 0);
    t.equal(r.unexplained, 0);
    t.ok(r.bridgeConnects >= 1, 'the bridge connected');
    t.ok(
      (r.relay?.up.bytesForwarded ?? 0) > 50 * 256,
      'the bytes went through the relay',
    );
    t.match(r.broker, /mosquitto version/);
  },
);
