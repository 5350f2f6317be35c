/**
 * A trial's result for people (a text report) and for programs (one JSON
 * object with a fixed set of keys).
 */
import type { BaselineResult } from './baseline.ts';
import type { DirectionImpairment, ScheduleEntry } from './profile-types.ts';
import type { DirectionCounters } from './shaper.ts';
import { networkText } from './trial-network.ts';
import type { Figures, TrialResult } from './trial-result.ts';

/** The baseline of a report: its figures, or why there are none. */
export type BaselineOutcome =
  { ran: true; result: BaselineResult } | { ran: false; reason: string };

/** The figures both sides of a report have, by these keys. */
export interface JsonFigures {
  published: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  unexplained: number;
  p50Ms: number | null;
  p99Ms: number | null;
  drainMs: number | null;
}

/** The JSON report: exactly these keys. */
export interface JsonReport extends JsonFigures {
  profile: string;
  /** The same workload over a Mosquitto bridge; null when not run. */
  baseline: JsonFigures | null;
}

/** True when nothing was lost unexplained and nothing duplicated. */
export function passed(r: TrialResult): boolean {
  return r.unexplained === 0 && r.duplicated === 0;
}

/** The JSON report of `r`, with the baseline's figures if it ran. */
export function jsonReport(r: TrialResult, b?: BaselineOutcome): JsonReport {
  return {
    ...jsonFigures(r),
    profile: r.profile.name,
    baseline: b?.ran === true ? jsonFigures(b.result) : null,
  };
}

function jsonFigures(f: Figures): JsonFigures {
  return {
    published: f.published,
    delivered: f.delivered,
    dropped: f.dropped,
    duplicated: f.duplicated,
    reordered: f.reordered,
    unexplained: f.unexplained,
    p50Ms: f.p50Ms,
    p99Ms: f.p99Ms,
    drainMs: f.drainMs,
  };
}

/** A late start of publishing is worth a word from this much, ms. */
const LATE_NOTE_MS = 100;

const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One schedule entry in words; times from the start of publishing. */
export function scheduleText(s: ScheduleEntry): string {
  switch (s.kind) {
    case 'outage':
    case 'blackhole':
      return (
        `${s.kind} ${secs(s.startMs)} to ${secs(s.startMs + s.durationMs)}` +
        ` (${s.direction})`
      );
    case 'flapping':
      return (
        `flapping: down ${secs(s.downMs)} every ${secs(s.periodMs)} ` +
        `from ${secs(s.startMs)} (${s.direction})`
      );
    case 'rebind':
      return `rebind every ${secs(s.everyMs)} from ${secs(s.startMs)}`;
  }
}

/** One direction's impairment in words, `none` when it has none. */
export function impairmentText(d: DirectionImpairment): string {
  const parts: string[] = [];
  if (d.delayMs > 0 || d.jitterMs > 0) {
    const jitter = d.jitterMs > 0 ? ` ± ${d.jitterMs}` : '';
    parts.push(`delay ${d.delayMs}${jitter} ms`);
  }
  if (d.lossBurst) parts.push('bursty loss');
  else if (d.lossPercent > 0) parts.push(`loss ${d.lossPercent} %`);
  if (d.duplicatePercent > 0) parts.push(`dup ${d.duplicatePercent} %`);
  if (d.reorderPercent > 0) parts.push(`reorder ${d.reorderPercent} %`);
  if (d.rateBitsPerSecond > 0) {
    parts.push(`rate ${(d.rateBitsPerSecond / 1e6).toFixed(1)} Mbit/s`);
  }
  return parts.length > 0 ? parts.join(', ') : 'none';
}

function countersText(c: DirectionCounters): string {
  return (
    `${c.packetsIn} in, ${c.droppedLoss} lost, ` +
    `${c.droppedOutage} down, ${c.droppedBlackhole} blackholed, ` +
    `${c.droppedRateQueue + c.droppedLimit} queue-dropped`
  );
}

function headerLines(r: TrialResult): string[] {
  const p = r.profile;
  const schedule = p.schedule.map(scheduleText).join('; ') || 'none';
  const t = r.peerTimers;
  const late =
    r.lateStartMs >= LATE_NOTE_MS
      ? `, publishing began ${r.lateStartMs} ms after the schedule's start`
      : '';
  return [
    `netem trial: profile ${p.name}`,
    `  ${p.description}`,
    `  link: up ${impairmentText(p.up)}; down ${impairmentText(p.down)}`,
    `  schedule (from the start of publishing): ${schedule}`,
    `  workload: ${r.ratePerSecond} msg/s for ${r.seconds} s, ` +
      `${r.payloadBytes}-byte payloads, relay seed ${r.seed}`,
    `  peer link: keepAliveInterval ${t.keepAliveS} s, ` +
      `idleTimeout ${t.idleTimeoutS} s`,
    `  network: ${networkText(r.network)}`,
    `  setup: uplink up ${r.setupMs} ms after the relay started ` +
      `(lead-in ${r.leadInMs} ms${late})`,
  ];
}

function drainText(r: TrialResult): string {
  const w = r.drainFrom.window;
  const from = w
    ? `the end of the last ${w.kind} window at ${secs(w.endMs)}`
    : `the end of publishing at ${secs(r.drainFrom.atMs)}`;
  if (r.drainMs === null) return `not drained (measured from ${from})`;
  return `${r.drainMs} ms from ${from}`;
}

function countLines(r: TrialResult): string[] {
  const lat = (v: number | null) => (v === null ? '-' : `${v} ms`);
  const failed = r.failed > 0 ? ` (${r.failed} failed: ${r.firstError})` : '';
  return [
    `published    ${r.published}${failed}`,
    `delivered    ${r.delivered}`,
    `dropped      ${r.dropped} (site trunk ${r.trunkDrops}, ` +
      `subscriber queue ${r.queueDrops})`,
    `duplicated   ${r.duplicated}`,
    `reordered    ${r.reordered}`,
    `unexplained  ${r.unexplained}`,
    `latency      p50 ${lat(r.p50Ms)}, p99 ${lat(r.p99Ms)}, ` +
      `max ${lat(r.maxLatencyMs)}`,
    `drain        ${drainText(r)}`,
  ];
}

/** The relay's counters, or which interfaces tc impaired. */
function impairmentLines(r: TrialResult): string[] {
  const relay = r.relay;
  if (!relay) {
    const t = r.network?.trunk;
    const where = t
      ? ` on ${t.siteIface} (up) and ${t.routerIface} (down)`
      : '';
    return [`impairment   ${r.impairment}${where}`];
  }
  return [
    `relay        up: ${countersText(relay.up)}`,
    `             down: ${countersText(relay.down)}; ` +
      `rebinds ${relay.rebinds}`,
  ];
}

function linkLines(r: TrialResult): string[] {
  const s = r.site;
  const site = s
    ? `${s.link}, ${s.connects} connects in ${s.connectAttempts} attempts, ` +
      `backlog ${s.backlog}`
    : `no status (${r.siteError ?? 'never read'})`;
  const lines = [`uplink       ${site}`, ...impairmentLines(r)];
  if (r.subscriberErrors.length > 0) {
    lines.push(`subscriber   resumed after: ${r.subscriberErrors.join('; ')}`);
  }
  if (r.foreign > 0) lines.push(`foreign      ${r.foreign}`);
  if (!r.completed) {
    lines.push('note         the drain wait ended before all was accounted');
  }
  if (r.dir) lines.push(`kept         ${r.dir}`);
  return lines;
}

/** The side-by-side table of wavemq's and the baseline's figures. */
export function comparisonLines(r: TrialResult, b: BaselineOutcome): string[] {
  if (!b.ran) return [`baseline     not run: ${b.reason}`];
  const m = b.result;
  const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
  const rows: [string, string, string][] = [
    ['published', `${r.published}`, `${m.published}`],
    ['delivered', `${r.delivered}`, `${m.delivered}`],
    ['dropped', `${r.dropped}`, `${m.dropped}`],
    ['duplicated', `${r.duplicated}`, `${m.duplicated}`],
    ['reordered', `${r.reordered}`, `${m.reordered}`],
    ['unexplained', `${r.unexplained}`, `${m.unexplained}`],
    ['p50 latency', ms(r.p50Ms), ms(m.p50Ms)],
    ['p99 latency', ms(r.p99Ms), ms(m.p99Ms)],
    ['drain', ms(r.drainMs), ms(m.drainMs)],
    ['connects', `${r.site?.connects ?? '-'}`, `${m.bridgeConnects}`],
  ];
  const col = (text: string) => text.padStart(18);
  return [
    `comparison   ${col('wavemq (QUIC)')}${col('Mosquitto bridge')}`,
    ...rows.map(([k, a, c]) => `  ${k.padEnd(11)}${col(a)}${col(c)}`),
    `  baseline: ${m.broker}, bridge over TCP ` +
      (m.relay
        ? `through the TCP relay (same profile and seed)`
        : `under ${m.impairment} (same profile)`) +
      ', QoS 1, clean session off, keep-alive 5 s' +
      (m.relay
        ? `; TCP relay: ${m.relay.up.segmentsLost} segments lost up, ` +
          `${m.relay.reset} connections reset`
        : ''),
  ];
}

/** The text report of `r`, with the comparison when `b` is given. */
export function textReport(r: TrialResult, b?: BaselineOutcome): string {
  const verdict = passed(r)
    ? 'result: PASS (no unexplained loss, no duplicates)'
    : `result: FAIL (${r.unexplained} unexplained, ` +
      `${r.duplicated} duplicated)`;
  return [
    ...headerLines(r),
    '',
    ...countLines(r),
    ...linkLines(r),
    '',
    ...comparisonLines(r, b ?? { ran: false, reason: 'skipped' }),
    '',
    verdict,
  ].join('\n');
}
