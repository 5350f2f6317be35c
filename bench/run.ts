/**
 * The benchmark suite: `npm run bench`. Prints each figure beside its
 * baseline. Nothing here is a pass/fail threshold.
 */
import { localThroughput } from './local-throughput.ts';
import { trunkDrain } from './trunk-drain.ts';

const BASELINES = {
  // Measured on the reference 2-core machine (notes on dependencies):
  // 64-byte messages on one QUIC stream of the library we use, echoed.
  quicStreamMsgsPerSecond: 5900,
  // Ed25519 verifications per second per core with sodium-native.
  ed25519VerifyPerSecond: 11_900,
  // One QUIC stream of the library moves about 1.3-1.6 MB/s per core
  // (1350-byte packets); a stored trunk message is about 800 bytes.
  quicStreamBytesPerSecond: 1_400_000,
};

function row(name: string, value: string, baseline: string): void {
  console.log(`${name.padEnd(44)} ${value.padStart(14)}   ${baseline}`);
}

async function main(): Promise<void> {
  const count = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
  console.log(
    `${'benchmark'.padEnd(44)} ${'measured'.padStart(14)}   baseline`,
  );
  const r = await localThroughput(count);
  row(
    'local publish->deliver, 256 B, msgs/s',
    r.perSecond.toFixed(0),
    `${BASELINES.quicStreamMsgsPerSecond} msgs/s raw QUIC stream (64 B echo); ` +
      `${BASELINES.ed25519VerifyPerSecond}/s Ed25519 verify`,
  );
  row('local publish->deliver, MB/s of payload', r.mbPerSecond.toFixed(2), '');
  row(
    'publish->deliver latency p50 / p99, ms',
    `${r.p50LatencyMs.toFixed(1)} / ${r.p99LatencyMs.toFixed(1)}`,
    `(${r.messages} messages in ${r.seconds.toFixed(1)} s)`,
  );
  const drainCount = Number(process.env['BENCH_BACKLOG'] ?? 100_000);
  const d = await trunkDrain(drainCount);
  row(
    `trunk drain of ${d.messages} x 256 B, msgs/s`,
    d.drainPerSecond.toFixed(0),
    `~${Math.round(BASELINES.quicStreamBytesPerSecond / 800)} msgs/s if ` +
      'one QUIC stream were the only limit',
  );
  row(
    'site router peak RSS over fill + drain, MiB',
    d.sitePeakRssMiB.toFixed(0),
    `RSS after filling the backlog: ${d.siteRssAfterFillMiB.toFixed(0)} MiB`,
  );
  row(
    'backlog fill / drain time, s',
    `${d.fillSeconds.toFixed(1)} / ${d.drainSeconds.toFixed(1)}`,
    '',
  );
}

await main();
