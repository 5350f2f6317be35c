/**
 * The agent's link to its router: one greeted connection at a time (QUIC
 * connection, control stream, `hello`/`welcome`). When the connection
 * drops, the link makes it again with jittered exponential backoff until
 * it succeeds, `close()` is called, or the agent's signal aborts. Each new
 * connection gets the next epoch number; callers wait for a connection
 * with `ready()`, and for one newer than a connection that failed them
 * with `ready({ after })`.
 */
import type { Logger } from '../common/logger.ts';
import { Backoff } from '../common/backoff.ts';
import { errorMessage } from '../common/errors.ts';
import type { Connection, Transport } from '../transport/index.ts';
import { PROTOCOL_VERSION } from '../wire/index.ts';
import { ControlChannel } from './control.ts';
import {
  AgentClosedError,
  AgentDisconnectedError,
  RouterChangedError,
} from './errors.ts';

/**
 * `connected`: a connection is up. `reconnecting`: it dropped and the
 * agent is making a new one. `closed`: for good (close(), the signal,
 * the router changed, or the link dropped with reconnecting off).
 */
export type AgentState = 'connected' | 'reconnecting' | 'closed';

/** Longest one reconnect attempt (handshake and greeting) may take, ms. */
export const RECONNECT_ATTEMPT_MS = 5000;

/** What the router said in `welcome`. */
export interface Welcome {
  router: string;
  entity: string;
  maxMessageBytes: number;
}

/** One greeted connection. */
export interface RouterConnection {
  conn: Connection;
  control: ControlChannel;
  welcome: Welcome;
  /** 1 for the first connection, one more for each reconnect. */
  epoch: number;
}

/** Backoff between reconnect attempts, ms. */
export interface ReconnectTiming {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** What a {@link RouterLink} needs. */
export interface RouterLinkOptions {
  transport: Transport;
  router: { host: string; port: number };
  routerKey?: Uint8Array;
  /** False: a dropped connection closes the link. */
  reconnect: ReconnectTiming | false;
  logger: Logger;
  /** Aborting while reconnecting closes the link. */
  signal?: AbortSignal;
  /** Called with each new connection before anything else may use it. */
  onConnected: (c: RouterConnection) => void;
  /** Called when a connection drops and reconnecting begins. */
  onLost: () => void;
  /** Called once when the link closes for good, with the reason. */
  onClosed: (reason: Error) => void;
}

interface Waiter {
  after: number;
  resolve: (c: RouterConnection) => void;
  reject: (err: Error) => void;
}

/**
 * Connects and greets: hello, then the router's welcome.
 * @throws the transport's error (ConnectError, PeerKeyMismatchError), a
 *   RouterRefusedError or AgentDisconnectedError from the greeting, or
 *   the signal's reason.
 */
export async function greet(
  o: Pick<RouterLinkOptions, 'transport' | 'router' | 'routerKey'>,
  epoch: number,
  attempt: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<RouterConnection> {
  const conn = await o.transport.connect({
    ...o.router,
    ...(o.routerKey ? { expectedServerKey: o.routerKey } : {}),
    ...(attempt.signal ? { signal: attempt.signal } : {}),
    ...(attempt.timeoutMs ? { timeoutMs: attempt.timeoutMs } : {}),
  });
  const onAbort = (): void => void conn.close('greeting aborted');
  attempt.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const control = new ControlChannel(await conn.openStream());
    const answer = control.nextUnsolicited();
    await control.send({ t: 'hello', v: PROTOCOL_VERSION });
    const w = await answer;
    const welcome: Welcome = {
      router: String(w['router']),
      entity: String(w['entity']),
      maxMessageBytes: Number(w['maxMessageBytes']),
    };
    return { conn, control, welcome, epoch };
  } catch (err) {
    await conn.close('greeting failed');
    throw attempt.signal?.aborted ? attempt.signal.reason : err;
  } finally {
    attempt.signal?.removeEventListener('abort', onAbort);
  }
}

/** The link; see the module comment. */
export class RouterLink {
  private current: RouterConnection | undefined;
  private latest: RouterConnection;
  private stateNow: AgentState = 'connected';
  private closedReason: Error | undefined;
  private readonly waiters = new Set<Waiter>();
  private readonly listeners = new Set<(s: AgentState) => void>();
  private readonly stop = new AbortController();
  private loop: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private readonly log: Logger;

  /** Wraps the first connection, already greeted (see {@link greet}). */
  constructor(
    private readonly o: RouterLinkOptions,
    first: RouterConnection,
  ) {
    this.log = o.logger;
    this.latest = first;
    this.install(first);
  }

  /** The link's state now. */
  get state(): AgentState {
    return this.stateNow;
  }

  /** The router's id, from the first welcome (it never changes). */
  get routerId(): string {
    return this.latest.welcome.router;
  }

  /** The most recent welcome. */
  get welcome(): Welcome {
    return this.latest.welcome;
  }

  /** Calls `listener` on every change of state; returns its remover. */
  onStateChange(listener: (state: AgentState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The current connection, waiting while reconnecting; with `after`,
   * one whose epoch is above it. With reconnecting off, always the one
   * connection, alive or not (its calls then fail as they did before).
   * @throws the reason the link closed (AgentClosedError,
   *   RouterChangedError, AgentDisconnectedError), or the signal's reason.
   */
  ready(
    o: { after?: number; signal?: AbortSignal } = {},
  ): Promise<RouterConnection> {
    if (this.o.reconnect === false) return Promise.resolve(this.latest);
    if (this.closedReason) return Promise.reject(this.closedReason);
    const after = o.after ?? 0;
    if (this.current && this.current.epoch > after) {
      return Promise.resolve(this.current);
    }
    if (o.signal?.aborted) return Promise.reject(o.signal.reason as Error);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(w);
        reject(o.signal?.reason as Error);
      };
      const w: Waiter = {
        after,
        resolve: (c) => {
          o.signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
        reject: (err) => {
          o.signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.waiters.add(w);
      o.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Closes the link for good: stops reconnecting, closes the connection,
   * and waits for the reconnect loop to end. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    const reason = new AgentClosedError('the agent was closed', {});
    this.stop.abort(reason);
    // With reconnecting off, pending calls fail from the connection's
    // end, as they always have; otherwise they are told the agent closed.
    if (this.o.reconnect !== false) this.finish(reason);
    await (c ?? this.latest).conn.close('agent closed');
    if (this.o.reconnect === false) this.finish(reason);
    await this.loop;
  }

  private install(c: RouterConnection): void {
    this.current = c;
    this.latest = c;
    this.o.onConnected(c);
    void c.conn.closed.then(({ reason }) => this.lost(c, reason));
    if (this.o.reconnect !== false) {
      // A control stream that ends while its connection stays up (the
      // router refused a frame on it) is no use: make a new connection.
      void c.control.done.then(() => c.conn.close('control stream ended'));
    }
    this.setState('connected');
    for (const w of [...this.waiters]) {
      if (c.epoch <= w.after) continue;
      this.waiters.delete(w);
      w.resolve(c);
    }
  }

  private lost(c: RouterConnection, reason: string): void {
    if (this.current !== c) return;
    this.current = undefined;
    if (this.o.reconnect === false) {
      this.finish(
        new AgentDisconnectedError(`connection to router lost: ${reason}`, {
          pending: 0,
        }),
      );
      return;
    }
    this.log.info({ reason, epoch: c.epoch }, 'router link lost');
    this.setState('reconnecting');
    this.o.onLost();
    this.loop = this.reconnect(this.o.reconnect, c.epoch + 1);
  }

  private async reconnect(t: ReconnectTiming, epoch: number): Promise<void> {
    const backoff = new Backoff({
      initialMs: t.initialDelayMs,
      maxMs: t.maxDelayMs,
    });
    const signal = this.o.signal
      ? AbortSignal.any([this.stop.signal, this.o.signal])
      : this.stop.signal;
    const lostAtMs = Date.now();
    for (;;) {
      const c = await this.attempt(backoff, signal, epoch);
      if (c === 'stopped') return this.stopped(signal);
      if (c === undefined) continue;
      if (signal.aborted) {
        await c.conn.close('agent closed');
        return this.stopped(signal);
      }
      if (c.welcome.router !== this.routerId) return this.changed(c);
      this.log.info(
        { attempts: backoff.attempts, downMs: Date.now() - lostAtMs, epoch },
        'router link restored',
      );
      this.install(c);
      return;
    }
  }

  /** One attempt after its delay; undefined when it failed. */
  private async attempt(
    backoff: Backoff,
    signal: AbortSignal,
    epoch: number,
  ): Promise<RouterConnection | 'stopped' | undefined> {
    const delayMs = backoff.next();
    try {
      await heldSleep(delayMs, signal);
      const timeout = AbortSignal.timeout(RECONNECT_ATTEMPT_MS);
      return await greet(this.o, epoch, {
        signal: AbortSignal.any([signal, timeout]),
        timeoutMs: RECONNECT_ATTEMPT_MS,
      });
    } catch (err) {
      if (signal.aborted) return 'stopped';
      this.log.debug(
        { attempt: backoff.attempts, delayMs, err: errorMessage(err) },
        'reconnect attempt failed',
      );
      return undefined;
    }
  }

  /** The loop was stopped: by close() (nothing to do) or the signal. */
  private stopped(signal: AbortSignal): void {
    if (this.stop.signal.aborted) return;
    const err = new AgentClosedError(
      `the agent's signal aborted while reconnecting: ${errorMessage(signal.reason)}`,
      {},
      { cause: signal.reason },
    );
    this.log.info({ err: err.message }, 'agent closed while reconnecting');
    this.finish(err);
  }

  private async changed(c: RouterConnection): Promise<void> {
    const err = new RouterChangedError(
      `the router at ${this.o.router.host}:${this.o.router.port} is now ` +
        `${c.welcome.router}, not ${this.routerId}: its queues and the ` +
        'origin signed into unacknowledged publishes belong to the old ' +
        'one; make a new Agent',
      { was: this.routerId, now: c.welcome.router },
    );
    this.log.warn(
      { was: this.routerId, now: c.welcome.router },
      'router changed; agent closed',
    );
    this.finish(err);
    await c.conn.close('router changed');
  }

  /** Enters `closed` once, failing everything that waits. */
  private finish(reason: Error): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    for (const w of this.waiters) w.reject(reason);
    this.waiters.clear();
    this.setState('closed');
    this.o.onClosed(reason);
  }

  private setState(state: AgentState): void {
    if (state === this.stateNow) return;
    this.stateNow = state;
    for (const l of [...this.listeners]) {
      try {
        l(state);
      } catch (err) {
        // A listener's fault must not stop the link; it is the caller's.
        this.log.error({ err: errorMessage(err) }, 'state listener threw');
      }
    }
  }
}

/**
 * Resolves after `ms`, or rejects when `signal` aborts. The timer is not
 * unref'd, unlike the house rule: a reconnecting agent keeps its process
 * alive as its open connection did, or the process would quietly exit
 * with publishes unsent and subscribers waiting. close() ends it.
 */
function heldSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
