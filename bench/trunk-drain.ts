/**
 * Drain of a trunk backlog: a site router (seed config, moved to a
 * temporary folder) queues N messages of 256 bytes while its designated
 * router is down; then the designated router starts and the clock runs
 * until the site's backlog is empty. Reports the drain rate and the site
 * router process's peak resident memory (VmHWM) over the whole run.
 */
import { readFile } from 'node:fs/promises';
import type { Test } from 'tap';
import { makeTier } from '../test/helpers/tier.ts';

export interface DrainResult {
  messages: number;
  fillSeconds: number;
  drainSeconds: number;
  drainPerSecond: number;
  sitePeakRssMiB: number;
  siteRssAfterFillMiB: number;
}

async function memoryMiB(
  pid: number,
  field: 'VmHWM' | 'VmRSS',
): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** Runs the drain benchmark with `count` messages. */
export async function trunkDrain(count = 100_000): Promise<DrainResult> {
  const teardowns: (() => Promise<void>)[] = [];
  const fakeTest = {
    teardown: (fn: () => Promise<void>) => teardowns.push(fn),
  } as unknown as Test;
  try {
    const tier = await makeTier(fakeTest, 1);
    const site = tier.sites[0]!;
    const proc = await site.start();
    const a = await tier.agent('bench');
    const agent = await site.connect(a);
    const payload = Buffer.alloc(256, 7);
    const fillStart = performance.now();
    for (let base = 0; base < count; base += 2000) {
      const batch = [];
      for (let i = base; i < Math.min(count, base + 2000); i++)
        batch.push(agent.publish(`bench/${i % 100}`, payload));
      await Promise.all(batch);
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const pid = proc.proc.pid!;
    const siteRssAfterFillMiB = await memoryMiB(pid, 'VmRSS');
    await tier.dr.start();
    const drainStart = performance.now();
    for (;;) {
      const st = await agent.status();
      const ns = (st['namespaces'] as { backlog: number }[])[0]!;
      if (ns.backlog === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const drainSeconds = (performance.now() - drainStart) / 1000;
    return {
      messages: count,
      fillSeconds,
      drainSeconds,
      drainPerSecond: count / drainSeconds,
      sitePeakRssMiB: await memoryMiB(pid, 'VmHWM'),
      siteRssAfterFillMiB,
    };
  } finally {
    for (const fn of teardowns) await fn();
  }
}
