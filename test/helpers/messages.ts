/**
 * Reading subscriptions and router status in end-to-end tests.
 */
import type {
  Agent,
  ReceivedMessage,
  Subscription,
} from '../../src/agent/index.ts';
import { eventually } from './processes.ts';

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
  await eventually(async () => {
    const { link } = await uplinkStatus(agent);
    return (link === 'up' || link === 'draining') === up ? true : undefined;
  }, 30_000);
}
