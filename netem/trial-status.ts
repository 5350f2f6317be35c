/**
 * The site router's view of its uplink during a trial, read through an
 * agent's status request at a fixed interval: link state, trunk backlog,
 * drops and reconnects, with a bounded history of backlog samples.
 */
import type { Agent } from '../src/agent/index.ts';
import { errorMessage, sleep } from '../src/common/index.ts';

/** One namespace's uplink figures, as `wavemq status` reports them. */
export interface SiteStatus {
  /** connecting, handshaking, draining, up, refused or stopped. */
  link: string;
  /** Messages in the trunk queue. */
  backlog: number;
  /** Messages the trunk queue dropped, in total. */
  drops: number;
  /** Successful handshakes with the designated router. */
  connects: number;
  /** Connection attempts. */
  connectAttempts: number;
}

/** A backlog reading: performance.now() of the answer, ms. */
export interface BacklogSample {
  atMs: number;
  backlog: number;
}

/**
 * Samples kept, at most. Overflow policy: the oldest are dropped (a
 * drain is measured from the latest window, near the end of a run).
 */
const MAX_SAMPLES = 20_000;

/** Reads the status of namespace 0 from `agent`. */
export async function siteStatus(agent: Agent): Promise<SiteStatus> {
  const st = await agent.status();
  const list = st['namespaces'];
  const n = (Array.isArray(list) ? list[0] : undefined) as
    Record<string, unknown> | undefined;
  const num = (key: string) => (typeof n?.[key] === 'number' ? n[key] : 0);
  return {
    link: typeof n?.['link'] === 'string' ? n['link'] : 'none',
    backlog: num('backlog'),
    drops: num('drops'),
    connects: num('connects'),
    connectAttempts: num('connectAttempts'),
  };
}

/** Polls a site router's status until stopped. */
export class StatusPoller {
  /** The latest answer; undefined before the first. */
  latest: SiteStatus | undefined;
  /** Text of the latest failed request, if the latest one failed. */
  lastError: string | undefined;
  readonly samples: BacklogSample[] = [];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly intervalMs: number,
  ) {}

  /** Starts polling; idempotent. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops polling and waits for the loop; idempotent. */
  async stop(): Promise<void> {
    this.abort.abort(new Error('status poller stopped'));
    await this.loop;
  }

  /** Polls once now and returns the answer. */
  async poll(): Promise<SiteStatus> {
    const s = await siteStatus(this.agent);
    this.latest = s;
    this.lastError = undefined;
    this.samples.push({ atMs: performance.now(), backlog: s.backlog });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
    return s;
  }

  /** The first sample at or after `fromMs` with an empty backlog. */
  firstEmptyAfter(fromMs: number): number | undefined {
    return this.samples.find((s) => s.atMs >= fromMs && s.backlog === 0)?.atMs;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      await this.poll().catch((err: unknown) => {
        this.lastError = errorMessage(err);
      });
      // An abort ends the wait early; the loop condition then stops.
      await sleep(this.intervalMs, signal).catch(() => undefined);
    }
  }
}
