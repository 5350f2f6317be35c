import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { sendNumbered, udpClient, udpEcho, waitFor } from './udp.ts';

const CLI = fileURLToPath(new URL('../../netem/relay-cli.ts', import.meta.url));

/** Runs the command line to its end; resolves with exit code and stderr. */
async function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 20_000,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [status] = (await once(child, 'exit')) as [number | null];
  return { status, stderr };
}

t.test('relay-cli: relays for --seconds and prints counters', async (t) => {
  const echo = await udpEcho();
  const client = await udpClient();
  t.teardown(async () => {
    await echo.close();
    await client.close();
  });
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--listen', '127.0.0.1:0']
      .concat(['--upstream', `127.0.0.1:${echo.port}`, '--profile', 'lossy'])
      .concat(['--seed', '5', '--seconds', '1.5', '--interval-ms', '300'])
      .concat(['--set', 'up.lossPercent=50', '--log-level', 'silent']),
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => out.includes('\n'), 'banner');
  const port = Number(/relay 127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  t.ok(port > 0, `relay on port ${port}`);
  await sendNumbered(client, port, 40);
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0, 'exits by itself');
  const lines = out.trim().split('\n');
  t.ok(lines.length >= 4, 'periodic counter lines');
  const final = lines.at(-1) ?? '';
  t.match(final, /^final t=1\.\ds state up\/up clients 1 /);
  t.match(final, /up: in 40 fwd \d+ loss \d+ /);
  const fwd = Number(/up: in 40 fwd (\d+)/.exec(final)?.[1]);
  t.equal(echo.arrivals.length, fwd, 'the echo got what was forwarded');
  t.ok(fwd < 32, `about half lost by the override (${fwd} of 40 passed)`);
});

t.test('relay-cli: bad arguments exit 2 and say which', async (t) => {
  const base = ['--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:9'];
  const cases: [string[], RegExp][] = [
    [
      ['--profile', 'cellular', '--listen', 'nowhere'],
      /--listen must be HOST:PORT/,
    ],
    [[...base, '--profile', 'nope'], /no profile "nope".*shipped: .*cellular/],
    [
      [...base, '--profile', 'cellular', '--set', 'up.lossPercent=200'],
      /profile "cellular": overrides\.up\.lossPercent must be/,
    ],
    [[...base, '--profile', 'cellular', '--set', 'outageMs=x'], /not a number/],
    [[...base], /--profile is required/],
    [[...base, '--profile', 'cellular', '--bogus'], /Unknown option/],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli(args)));
  cases.forEach(([args, message], i) => {
    t.equal(results[i]?.status, 2, `exit 2 for ${args.slice(-2).join(' ')}`);
    t.match(results[i]?.stderr, message);
  });
});
