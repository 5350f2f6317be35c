/**
 * Command lines for the kernel's netem qdisc, built from one direction of
 * a profile. Pure functions, so they are tested without netem.
 */
import type { DirectionImpairment } from './profile-types.ts';

/** What a `tc qdisc` command does to the root qdisc. */
export type QdiscAction = 'add' | 'change' | 'replace' | 'del';

/** Where a command runs. */
export interface TcTarget {
  /** Interface whose egress is shaped. */
  iface: string;
  /** Network namespace (`tc -n`); default the current one. */
  netns?: string;
}

/** A number in tc syntax: at most 3 decimals, no exponent. */
function num(v: number): string {
  return String(Number(v.toFixed(3)));
}

/**
 * The netem options for `x`, e.g. for the cellular profile
 * `delay 100ms 50ms loss random 3% rate 5000000bit limit 1000`.
 * `linkDown` replaces the loss with `loss random 100%`: how schedules
 * take the link down through `tc qdisc change`.
 */
export function netemArgs(
  x: DirectionImpairment,
  options: { linkDown?: boolean } = {},
): string[] {
  const a: string[] = [];
  if (x.delayMs > 0 || x.jitterMs > 0 || x.reorderPercent > 0) {
    a.push('delay', `${num(x.delayMs)}ms`);
    if (x.jitterMs > 0) {
      a.push(`${num(x.jitterMs)}ms`);
      // netem's default jitter is uniform; other shapes need a table.
      if (x.jitterDistribution === 'normal') a.push('distribution', 'normal');
    }
  }
  a.push(...lossArgs(x, options.linkDown ?? false));
  if (x.duplicatePercent > 0) {
    a.push('duplicate', `${num(x.duplicatePercent)}%`);
  }
  if (x.reorderPercent > 0) a.push('reorder', `${num(x.reorderPercent)}%`);
  if (x.rateBitsPerSecond > 0) a.push('rate', `${x.rateBitsPerSecond}bit`);
  a.push('limit', String(x.limitPackets));
  return a;
}

function lossArgs(x: DirectionImpairment, linkDown: boolean): string[] {
  if (linkDown) return ['loss', 'random', '100%'];
  const b = x.lossBurst;
  if (b) {
    // netem's gemodel takes p, r, 1-h (bad-state loss), 1-k (good-state).
    return [
      'loss',
      'gemodel',
      `${num(b.goodToBadPercent)}%`,
      `${num(b.badToGoodPercent)}%`,
      `${num(b.badLossPercent)}%`,
      `${num(b.goodLossPercent)}%`,
    ];
  }
  if (x.lossPercent > 0) return ['loss', 'random', `${num(x.lossPercent)}%`];
  return [];
}

/**
 * A full `tc qdisc` argv, e.g. `tc -n wmq-a qdisc replace dev wmq-a0 root
 * netem delay 300ms ...`. `del` takes no impairment.
 */
export function qdiscCommand(
  action: QdiscAction,
  target: TcTarget,
  x?: DirectionImpairment,
  options: { linkDown?: boolean } = {},
): string[] {
  const argv = ['tc'];
  if (target.netns !== undefined) argv.push('-n', target.netns);
  argv.push('qdisc', action, 'dev', target.iface, 'root');
  if (action === 'del') return argv;
  if (!x) throw new TypeError(`tc qdisc ${action} needs an impairment`);
  return [...argv, 'netem', ...netemArgs(x, options)];
}
