/**
 * A userspace UDP impairment relay: the site connects to its listening
 * address as if it were the designated router; the relay forwards each
 * datagram to the real designated router and back, applying a profile's
 * delay, jitter, loss, duplication, reordering, rate and schedule in each
 * direction. It stands in for `tc netem` on kernels without it.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  errorMessage,
  silentLogger,
  type Clock,
  type Logger,
} from '../src/common/index.ts';
import { RelayStateError } from './errors.ts';
import { FlowTable, type Flow, type FlowInfo } from './flows.ts';
import type { Direction, Profile } from './profile-types.ts';
import { randomSeed, seededRandom, type Random } from './random.ts';
import { scheduledState, type LinkState } from './schedule.ts';
import { armSchedule } from './schedule-timer.ts';
import { TimerScheduler, type Scheduler } from './scheduler.ts';
import { DirectionShaper, type DirectionCounters } from './shaper.ts';
import {
  bindSocket,
  closeSocket,
  resolveHost,
  type HostPort,
} from './sockets.ts';

export type { HostPort } from './sockets.ts';

/** Options of {@link ImpairmentRelay}. */
export interface RelayOptions {
  /** Where sites send to; port 0 picks a free port (see `address`). */
  listen: HostPort;
  /** The real designated router. */
  upstream: HostPort;
  profile: Profile;
  /** Seed of the default random source; default a random seed (logged). */
  seed?: number;
  /** Uniform [0, 1) source; overrides `seed`. */
  random?: Random;
  /** Clock of the default scheduler; default sub-millisecond wall time. */
  clock?: Clock;
  /** Timer source; default real timers on `clock`. */
  scheduler?: Scheduler;
  /** Default silent. */
  logger?: Logger;
  /**
   * Clients (source address and port) served at once; default 256.
   * Overflow policy: datagrams from further clients are dropped and
   * counted in `up.droppedOther`.
   */
  maxClients?: number;
  /** A client's upstream socket closes after this long without a
   *  datagram either way, ms; default 300 000 (a typical NAT timeout). */
  clientIdleMs?: number;
  /** Source addresses for upstream sockets, taken in turn on every
   *  rebind; default the wildcard address (the OS picks). */
  sourceHosts?: string[];
}

/** Counters and state of a relay. */
export interface RelayStats {
  /** ms since start (0 before; frozen at stop). */
  elapsedMs: number;
  state: Record<Direction, LinkState>;
  up: DirectionCounters;
  down: DirectionCounters;
  clients: number;
  /** Rebinds done (each moves every client). */
  rebinds: number;
}

interface Packet {
  flowKey: string;
  data: Buffer;
}

type Phase = 'new' | 'starting' | 'running' | 'stopped';

/** Seconds between idle-flow sweeps, at most. */
const MAX_SWEEP_INTERVAL_MS = 10_000;
/** Warnings about dropped clients: at most one per this interval. */
const WARN_INTERVAL_MS = 10_000;

/** The relay; see the module comment. Not restartable after stop(). */
export class ImpairmentRelay {
  private readonly o: RelayOptions;
  private readonly log: Logger;
  private readonly scheduler: Scheduler;
  private readonly ownScheduler: boolean;
  private readonly shapers: Record<Direction, DirectionShaper<Packet>>;
  private readonly flows: FlowTable;
  private listenSocket: Socket | undefined;
  private upstreamHost: string;
  private phase: Phase = 'new';
  private startedAtMs: number | undefined;
  private stoppedAtMs: number | undefined;
  private manualDown = false;
  private rebindCount = 0;
  private lastWarnMs = -Infinity;
  private starting: Promise<HostPort> | undefined;
  private stopping: Promise<void> | undefined;

  /** @throws RangeError for a bad maxClients or clientIdleMs. */
  constructor(options: RelayOptions) {
    this.o = options;
    checkPositive('maxClients', options.maxClients);
    checkPositive('clientIdleMs', options.clientIdleMs);
    this.log = (options.logger ?? silentLogger()).child({
      component: 'netem-relay',
      profile: options.profile.name,
    });
    this.ownScheduler = options.scheduler === undefined;
    this.scheduler = options.scheduler ?? new TimerScheduler(options.clock);
    const seed = options.seed ?? randomSeed();
    const random = options.random ?? seededRandom(seed);
    if (!options.random) this.log.info({ seed }, 'relay random seed');
    const shaper = (d: Direction) =>
      new DirectionShaper<Packet>({
        impairment: options.profile[d],
        scheduler: this.scheduler,
        random,
        deliver: (p) => this.deliver(d, p),
      });
    this.shapers = { up: shaper('up'), down: shaper('down') };
    this.upstreamHost = options.upstream.host;
    this.flows = new FlowTable({
      upstreamHost: () => this.upstreamHost,
      sourceHosts: options.sourceHosts ?? [],
      onUpstreamMessage: (flow, data) => this.fromUpstream(flow, data),
      logger: this.log,
    });
  }

  /**
   * Binds the listening socket and starts the schedule; resolves with the
   * address bound. Idempotent. An aborted `signal` stops the relay.
   * @throws RelayStateError after stop(); the bind error when the listen
   *   address is unusable (the relay is then stopped).
   */
  start(options: { signal?: AbortSignal } = {}): Promise<HostPort> {
    if (this.phase === 'stopped') {
      return Promise.reject(
        new RelayStateError('relay was stopped', { state: this.phase }),
      );
    }
    this.starting ??= this.doStart(options.signal);
    return this.starting;
  }

  /** Closes every socket and drops what is queued. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** The bound listening address. @throws RelayStateError before start. */
  get address(): HostPort {
    const socket = this.listenSocket;
    if (!socket || this.phase !== 'running') {
      throw new RelayStateError('relay is not running', { state: this.phase });
    }
    const a = socket.address();
    return { host: a.address, port: a.port };
  }

  /** Takes the link down (both directions) until `setDown(false)`. */
  setDown(down: boolean): void {
    if (down === this.manualDown) return;
    this.manualDown = down;
    this.log.info({ down }, 'link set down by hand');
  }

  /**
   * Moves every client to a new upstream source port now, like a NAT
   * rebinding; resolves with the number of clients moved (0 unless
   * running). A client whose new socket cannot bind (a bad
   * `sourceHosts` entry) keeps its old source; that is logged.
   */
  async rebind(): Promise<number> {
    if (this.phase !== 'running') return 0;
    this.rebindCount++;
    const { moved, failed } = await this.flows.rebindAll();
    this.log.info({ clients: moved, failed }, 'upstream source rebound');
    return moved;
  }

  /** Current state of `direction`. */
  state(direction: Direction): LinkState {
    if (this.manualDown) return 'manual-down';
    if (this.phase !== 'running') return 'up';
    return scheduledState(this.o.profile.schedule, direction, this.elapsed());
  }

  /** A snapshot of the counters. */
  stats(): RelayStats {
    return {
      elapsedMs: this.elapsed(),
      state: { up: this.state('up'), down: this.state('down') },
      up: { ...this.shapers.up.counters },
      down: { ...this.shapers.down.counters },
      clients: this.flows.size,
      rebinds: this.rebindCount,
    };
  }

  /** The clients and the source each appears from upstream. */
  clients(): FlowInfo[] {
    return this.flows.info();
  }

  /** ms since start; 0 before, frozen at stop. */
  private elapsed(): number {
    if (this.startedAtMs === undefined) return 0;
    return (this.stoppedAtMs ?? this.scheduler.now()) - this.startedAtMs;
  }

  private async doStart(signal: AbortSignal | undefined): Promise<HostPort> {
    this.phase = 'starting';
    try {
      signal?.throwIfAborted();
      this.upstreamHost = await resolveHost(this.o.upstream.host);
      this.stillStarting();
      const family = isIPv6(this.o.listen.host) ? 'udp6' : 'udp4';
      const socket = createSocket(family);
      this.listenSocket = socket;
      socket.on('message', (data, rinfo) => this.fromClient(data, rinfo));
      socket.on('error', (err) => {
        this.log.error({ err: errorMessage(err) }, 'listen socket error');
      });
      await bindSocket(socket, this.o.listen);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.stillStarting();
    this.phase = 'running';
    const startedAtMs = this.scheduler.now();
    this.startedAtMs = startedAtMs;
    this.armSchedule(startedAtMs);
    const address = this.address;
    this.log.info({ ...address, upstream: this.o.upstream }, 'relay started');
    if (signal?.aborted) void this.stop();
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    return address;
  }

  /** @throws RelayStateError when stop() came while starting. */
  private stillStarting(): void {
    if (this.phase !== 'starting') {
      throw new RelayStateError('relay stopped while starting', {
        state: this.phase,
      });
    }
  }

  private async doStop(): Promise<void> {
    const wasRunning = this.phase === 'running';
    const last = this.stats();
    this.stoppedAtMs = this.scheduler.now();
    this.phase = 'stopped';
    if (this.ownScheduler) this.scheduler.clear();
    const socket = this.listenSocket;
    this.listenSocket = undefined;
    await Promise.all([
      this.flows.closeAll(),
      socket ? closeSocket(socket) : Promise.resolve(),
    ]);
    if (wasRunning) this.log.info(last, 'relay stopped');
  }

  private armSchedule(startedAtMs: number): void {
    armSchedule({
      scheduler: this.scheduler,
      schedule: this.o.profile.schedule,
      startedAtMs,
      running: () => this.phase === 'running',
      onStateChange: () =>
        this.log.info(this.stats().state, 'link state changed'),
      onRebind: () =>
        this.rebind().catch((err: unknown) => {
          this.log.error({ err: errorMessage(err) }, 'rebind failed');
        }),
    });
    this.armSweep();
  }

  private armSweep(): void {
    const idleMs = this.o.clientIdleMs ?? 300_000;
    const everyMs = Math.min(idleMs / 2, MAX_SWEEP_INTERVAL_MS);
    this.scheduler.at(this.scheduler.now() + everyMs, () => {
      if (this.phase !== 'running') return;
      const closed = this.flows.expire(this.scheduler.now() - idleMs);
      if (closed > 0) this.log.debug({ closed }, 'idle clients expired');
      this.armSweep();
    });
  }

  private fromClient(data: Buffer, rinfo: RemoteInfo): void {
    if (this.phase !== 'running') return;
    const nowMs = this.scheduler.now();
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      if (this.flows.size >= (this.o.maxClients ?? 256)) {
        this.shapers.up.refuse(data.length);
        this.warnRefused(nowMs, key);
        return;
      }
      flow = this.flows.open(rinfo.address, rinfo.port, nowMs);
      this.log.debug({ client: key }, 'client flow opened');
    }
    flow.lastSeenMs = nowMs;
    this.shapers.up.offer(
      { flowKey: key, data },
      data.length,
      this.state('up'),
    );
  }

  private fromUpstream(flow: Flow, data: Buffer): void {
    if (this.phase !== 'running') return;
    flow.lastSeenMs = this.scheduler.now();
    const packet = { flowKey: flow.key, data };
    this.shapers.down.offer(packet, data.length, this.state('down'));
  }

  private deliver(d: Direction, p: Packet): boolean {
    const flow = this.flows.get(p.flowKey);
    const listen = this.listenSocket;
    if (this.phase !== 'running' || !flow || !listen) return false;
    const onSent = (err: Error | null) => {
      if (!err) return;
      this.shapers[d].countSendError();
      this.log.debug(
        { client: flow.key, err: errorMessage(err) },
        'send failed',
      );
    };
    if (d === 'up') {
      flow.socket.send(p.data, this.o.upstream.port, this.upstreamHost, onSent);
    } else {
      listen.send(p.data, flow.clientPort, flow.clientAddress, onSent);
    }
    return true;
  }

  private warnRefused(nowMs: number, client: string): void {
    if (nowMs - this.lastWarnMs < WARN_INTERVAL_MS) return;
    this.lastWarnMs = nowMs;
    const dropped = this.shapers.up.counters.droppedOther;
    this.log.warn({ client, dropped }, 'client table full; datagram dropped');
  }
}

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive number`);
  }
}
