/**
 * Reading subscriptions and router status in end-to-end tests.
 */
import type {
  Agent,
  ReceivedMessage,
  Subscription,
} from '../../src/agent/index.ts';
import { eventually, runCli } from '../../harness/processes.ts';

/** The first payload of `m` as text. */
export const text = (m: ReceivedMessage): string =>
  Buffer.from(m.payloads[0]!.content).toString();

/**
 * The next `n` messages of `sub`, acknowledged as they come unless
 * `ack` is false (to leave them for a later subscriber).
 */
export async function take(
  sub: Subscription,
  n: number,
  o: { ack?: boolean } = {},
): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  if (n === 0) return out;
  for await (const m of sub) {
    out.push(m);
    if (o.ack !== false) sub.ack(m);
    if (out.length >= n) break;
  }
  return out;
}

/**
 * Up to `n` messages of `sub`, acknowledged as they come; stops early
 * when none has come for `quietMs`, so a test can report how many are
 * missing instead of waiting for ever.
 */
export async function takeUntilQuiet(
  sub: Subscription,
  n: number,
  quietMs: number,
): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const it = sub[Symbol.asyncIterator]();
  while (out.length < n) {
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<'quiet'>((resolve) => {
      timer = setTimeout(() => resolve('quiet'), quietMs);
    });
    const next = await Promise.race([it.next(), quiet]);
    clearTimeout(timer);
    if (next === 'quiet' || next.done === true) break;
    out.push(next.value);
    sub.ack(next.value);
  }
  return out;
}

/** One namespace's uplink figures, as `status` reports them. */
export interface UplinkStatus {
  link: string;
  backlog: number;
  connects: number;
  [key: string]: unknown;
}

/** The first namespace's uplink figures of the router `agent` is on. */
export async function uplinkStatus(agent: Agent): Promise<UplinkStatus> {
  const st = await agent.status();
  return (st['namespaces'] as UplinkStatus[])[0]!;
}

/** Waits until the uplink is up (or, with `up` false, until it is not). */
export async function linkUp(agent: Agent, up = true): Promise<void> {
  const isUp = (s: UplinkStatus): boolean =>
    s.link === 'up' || s.link === 'draining';
  await uplinkReaches(agent, (s) => isUp(s) === up, 30_000);
}

/** Waits until `check` holds for the first namespace's uplink figures. */
export async function uplinkReaches(
  agent: Agent,
  check: (s: UplinkStatus) => boolean,
  timeoutMs = 20_000,
): Promise<void> {
  await eventually(
    async () => (check(await uplinkStatus(agent)) ? true : undefined),
    timeoutMs,
  );
}

/** Waits until the trunk backlog is empty. */
export function backlogDrained(
  agent: Agent,
  timeoutMs?: number,
): Promise<void> {
  return uplinkReaches(agent, (s) => s.backlog === 0, timeoutMs);
}

/**
 * Waits until the router on 127.0.0.1:`port` has a subscription, asking
 * through the CLI as a separate process would.
 */
export async function subscriptionExists(port: number): Promise<void> {
  await eventually(async () => {
    const st = await runCli([
      'status',
      '--json',
      '--router',
      `127.0.0.1:${port}`,
    ]);
    if (st.code !== 0) return undefined;
    const { subscriptions } = JSON.parse(st.stdout) as {
      subscriptions: number;
    };
    return subscriptions >= 1 ? true : undefined;
  });
}
