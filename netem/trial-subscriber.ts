/**
 * The agents of a trial: connecting them to a router on loopback, and
 * the durable subscriber at the designated router, which resumes its
 * subscription by id whenever its own link fails so that only the
 * impaired uplink is under test.
 */
import { Agent, type Subscription } from '../src/agent/index.ts';
import { errorMessage, sleep } from '../src/common/index.ts';
import type { TestAgent } from '../harness/grants.ts';
import { DeliveryLog, TRIAL_PATTERN, consume } from './workload.ts';

/** Longest wait for an agent to connect and be greeted, ms. */
export const AGENT_CONNECT_TIMEOUT_MS = 60_000;
/** Subscription id of the trial subscriber. */
const SUBSCRIPTION_ID = 'netem-trial';
/** Pause before resuming after a failure of the subscriber's link, ms. */
const RESUME_DELAY_MS = 500;
/** Failures of the subscriber's link kept for the report, at most. */
const MAX_ERRORS = 20;

/**
 * Connects agent `a` to the router whose agent port is `host`:`port`.
 * @throws the connect error, or an abort error after
 *   AGENT_CONNECT_TIMEOUT_MS or when `signal` aborts.
 */
export async function connectTrialAgent(
  host: string,
  port: number,
  a: TestAgent,
  signal?: AbortSignal,
): Promise<Agent> {
  const timeout = AbortSignal.timeout(AGENT_CONNECT_TIMEOUT_MS);
  return Agent.connect({
    router: { host, port },
    entity: a.entity,
    namespace: a.proof.namespace,
    proof: a.proof,
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
}

/** A durable subscriber that records into a DeliveryLog. */
export class TrialSubscriber {
  /** Failures of its own link (each followed by a resume). */
  readonly errors: string[] = [];
  private readonly agents: Agent[] = [];
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly who: TestAgent,
    private readonly log: DeliveryLog,
  ) {}

  /**
   * Subscribes (resolving once the router has confirmed it), then reads
   * in the background until stop().
   */
  async start(signal?: AbortSignal): Promise<void> {
    const first = await this.subscribe(signal);
    this.loop = this.run(first);
  }

  /** Closes its connections and waits for the reading to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const a of this.agents) {
      await a.close().catch(() => undefined);
    }
    await this.loop;
  }

  private async subscribe(signal?: AbortSignal): Promise<Subscription> {
    const agent = await connectTrialAgent(
      this.host,
      this.port,
      this.who,
      signal,
    );
    this.agents.push(agent);
    if (this.stopping) {
      // stop() came while connecting and has closed the others already.
      await agent.close();
      throw new Error('subscriber stopped');
    }
    return agent.subscribe(TRIAL_PATTERN, { id: SUBSCRIPTION_ID });
  }

  private async run(first: Subscription): Promise<void> {
    let sub: Subscription | undefined = first;
    while (sub) {
      const failure = await consume(sub, this.log);
      if (this.stopping) return;
      this.note(failure ?? 'subscription stream ended');
      sub = await this.resume();
    }
  }

  private async resume(): Promise<Subscription | undefined> {
    while (!this.stopping) {
      await sleep(RESUME_DELAY_MS);
      try {
        return await this.subscribe();
      } catch (err) {
        this.note(errorMessage(err));
      }
    }
    return undefined;
  }

  private note(text: string): void {
    if (this.errors.length < MAX_ERRORS) this.errors.push(text);
  }
}
