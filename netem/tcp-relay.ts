/**
 * A userspace TCP impairment relay: the same profiles as the UDP relay,
 * for protocols that run over TCP (the Mosquitto bridge the trial runner
 * compares against). Each accepted connection gets its own connection to
 * the upstream address; both directions go through a {@link TcpPipe},
 * which turns the profile into the delays a TCP application sees.
 *
 * Schedule: while a direction is down or blackholed its bytes wait (TCP
 * retransmits them when it returns). During an outage new connections
 * are refused at once (the interface is down: the connect fails); during
 * a blackhole they hang until it ends. A rebind resets every client
 * connection, as a NAT that lost its mapping does; the upstream side of
 * it is left open and silent, so the server notices only by its own
 * keep-alive, as it would on a real link.
 */
import { createServer, Socket, type Server } from 'node:net';
import {
  errorMessage,
  silentLogger,
  type Logger,
} from '../src/common/index.ts';
import { RelayStateError } from './errors.ts';
import type { Direction, Profile } from './profile-types.ts';
import { randomSeed, seededRandom, type Random } from './random.ts';
import { scheduledState, type LinkState } from './schedule.ts';
import { armSchedule } from './schedule-timer.ts';
import { TimerScheduler, type Scheduler } from './scheduler.ts';
import type { HostPort } from './sockets.ts';
import {
  TcpPipe,
  retransmitTimeoutMs,
  zeroTcpCounters,
  type Chunk,
  type TcpDirectionCounters,
} from './tcp-pipe.ts';

/** Options of {@link TcpImpairmentRelay}. */
export interface TcpRelayOptions {
  /** Where clients connect; port 0 picks a free port (see `address`). */
  listen: HostPort;
  upstream: HostPort;
  profile: Profile;
  /** Seed of the random source; default a random seed (logged). */
  seed?: number;
  /** Uniform [0, 1) source; overrides `seed`. */
  random?: Random;
  /** Timer source; default real timers. */
  scheduler?: Scheduler;
  /** Default silent. */
  logger?: Logger;
  /**
   * Connections relayed at once; default 64. Overflow policy: further
   * connections are closed at once and counted in `refused`.
   */
  maxConnections?: number;
  /**
   * Bytes one direction of a connection may hold before its sender is
   * paused (TCP flow control); default 1 MiB.
   */
  pauseBytes?: number;
}

/** Counters and state of a TCP relay. */
export interface TcpRelayStats {
  elapsedMs: number;
  state: Record<Direction, LinkState>;
  up: TcpDirectionCounters;
  down: TcpDirectionCounters;
  /** Connections open now. */
  connections: number;
  accepted: number;
  /** Refused: link down at connect, or too many connections. */
  refused: number;
  /** Client connections reset by a rebind. */
  reset: number;
  rebinds: number;
}

interface Relayed {
  client: Socket;
  upstream: Socket | undefined;
  pipes: Record<Direction, TcpPipe>;
  /** Set by a rebind: the upstream side is kept open but carries nothing. */
  severed: boolean;
}

type Phase = 'new' | 'running' | 'stopped';

/** The relay; see the module comment. Not restartable after stop(). */
export class TcpImpairmentRelay {
  private readonly log: Logger;
  private readonly scheduler: Scheduler;
  private readonly random: Random;
  private readonly counters = {
    up: zeroTcpCounters(),
    down: zeroTcpCounters(),
  };
  private readonly live = new Set<Relayed>();
  private readonly zombies = new Set<Socket>();
  private server: Server | undefined;
  private phase: Phase = 'new';
  private startedAtMs: number | undefined;
  private stoppedAtMs: number | undefined;
  private manualDown = false;
  /** Only a scheduler made here is cleared on stop: others are shared. */
  private readonly ownScheduler: boolean;
  private totals = { accepted: 0, refused: 0, reset: 0, rebinds: 0 };

  constructor(private readonly o: TcpRelayOptions) {
    this.log = (o.logger ?? silentLogger()).child({
      component: 'netem-tcp-relay',
      profile: o.profile.name,
    });
    this.ownScheduler = o.scheduler === undefined;
    this.scheduler = o.scheduler ?? new TimerScheduler();
    const seed = o.seed ?? randomSeed();
    this.random = o.random ?? seededRandom(seed);
    if (!o.random) this.log.info({ seed }, 'relay random seed');
  }

  /**
   * Listens and starts the schedule; resolves with the address bound.
   * @throws RelayStateError when not new; the listen error.
   */
  async start(): Promise<HostPort> {
    if (this.phase !== 'new') {
      throw new RelayStateError('relay already started or stopped', {
        state: this.phase,
      });
    }
    // Half-open as TCP allows: a client that has sent FIN still reads
    // the reply.
    const server = createServer(
      { pauseOnConnect: true, allowHalfOpen: true },
      (s) => this.accept(s),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.listen.port, this.o.listen.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => {
      this.log.error({ err: errorMessage(err) }, 'listen socket error');
    });
    this.phase = 'running';
    this.startedAtMs = this.scheduler.now();
    this.armSchedule();
    return this.address;
  }

  /** Closes every connection and the listener. Idempotent. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.stoppedAtMs = this.scheduler.now();
    this.phase = 'stopped';
    if (this.ownScheduler) this.scheduler.clear();
    for (const r of this.live) this.destroy(r);
    for (const z of this.zombies) z.destroy();
    this.zombies.clear();
    const server = this.server;
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** The bound address. @throws RelayStateError unless running. */
  get address(): HostPort {
    const a = this.server?.address();
    if (this.phase !== 'running' || a === null || typeof a !== 'object') {
      throw new RelayStateError('relay is not running', { state: this.phase });
    }
    return { host: a.address, port: a.port };
  }

  /** Takes the link down (both directions) until `setDown(false)`. */
  setDown(down: boolean): void {
    if (down === this.manualDown) return;
    this.manualDown = down;
    this.linkChanged();
  }

  /** Resets every client connection, as a NAT rebinding does. */
  rebind(): number {
    this.totals.rebinds += 1;
    let moved = 0;
    for (const r of [...this.live]) {
      r.severed = true;
      this.live.delete(r);
      r.pipes.up.close();
      r.pipes.down.close();
      r.client.resetAndDestroy();
      if (r.upstream) this.keepSilent(r.upstream);
      moved += 1;
    }
    this.totals.reset += moved;
    this.log.info({ connections: moved }, 'client connections reset');
    return moved;
  }

  /** Current state of `direction`. */
  state(direction: Direction): LinkState {
    if (this.manualDown) return 'manual-down';
    if (this.phase !== 'running') return 'up';
    return scheduledState(this.o.profile.schedule, direction, this.elapsed());
  }

  /** A snapshot of the counters. */
  stats(): TcpRelayStats {
    return {
      elapsedMs: this.elapsed(),
      state: { up: this.state('up'), down: this.state('down') },
      up: { ...this.counters.up },
      down: { ...this.counters.down },
      connections: this.live.size,
      ...this.totals,
    };
  }

  private elapsed(): number {
    if (this.startedAtMs === undefined) return 0;
    return (this.stoppedAtMs ?? this.scheduler.now()) - this.startedAtMs;
  }

  private armSchedule(): void {
    armSchedule({
      scheduler: this.scheduler,
      schedule: this.o.profile.schedule,
      startedAtMs: this.startedAtMs ?? this.scheduler.now(),
      running: () => this.phase === 'running',
      onStateChange: () => {
        this.log.info(this.stats().state, 'link state changed');
        this.linkChanged();
      },
      onRebind: () => {
        this.rebind();
      },
    });
  }

  private linkChanged(): void {
    for (const r of this.live) {
      r.pipes.up.linkChanged();
      r.pipes.down.linkChanged();
    }
  }

  private accept(client: Socket): void {
    client.on('error', (err) => {
      this.log.debug({ err: errorMessage(err) }, 'client socket error');
    });
    const max = this.o.maxConnections ?? 64;
    // An interface that is down refuses at once; a blackhole lets the
    // connect hang (its SYN is answered once the path is back).
    const state = this.state('up');
    const down = state !== 'up' && state !== 'blackhole';
    if (this.phase !== 'running' || down || this.live.size >= max) {
      this.totals.refused += 1;
      client.resetAndDestroy();
      return;
    }
    this.totals.accepted += 1;
    const r: Relayed = {
      client,
      upstream: undefined,
      severed: false,
      pipes: {
        up: this.pipe(() => r, 'up'),
        down: this.pipe(() => r, 'down'),
      },
    };
    this.live.add(r);
    r.pipes.up.offer({ kind: 'connect' });
    this.read(r, client, 'up');
    client.resume();
  }

  /** The pipe of direction `d` of the connection `ref` returns. */
  private pipe(ref: () => Relayed, d: Direction): TcpPipe {
    const p = this.o.profile;
    return new TcpPipe({
      impairment: p[d],
      rtoMs: retransmitTimeoutMs(p.up, p.down),
      scheduler: this.scheduler,
      random: this.random,
      isUp: () => this.state(d) === 'up',
      counters: this.counters[d],
      deliver: (chunk) => this.deliver(ref(), d, chunk),
      onPressure: (paused) => {
        const s = d === 'up' ? ref().client : ref().upstream;
        if (paused) s?.pause();
        else s?.resume();
      },
      pauseBytes: this.o.pauseBytes ?? 1024 * 1024,
    });
  }

  /** Feeds what `socket` sends into the pipe of direction `d`. */
  private read(r: Relayed, socket: Socket, d: Direction): void {
    socket.on('data', (data: Buffer) => {
      r.pipes[d].offer({ kind: 'data', data });
    });
    socket.on('end', () => r.pipes[d].offer({ kind: 'end' }));
    socket.on('close', () => {
      if (r.severed) return;
      r.pipes[d].offer({ kind: 'end' });
      this.maybeForget(r);
    });
  }

  private deliver(r: Relayed, d: Direction, chunk: Chunk): void {
    if (r.severed || this.phase !== 'running') return;
    if (chunk.kind === 'connect') {
      this.connectUpstream(r);
      return;
    }
    const target = d === 'up' ? r.upstream : r.client;
    if (!target || target.destroyed) return;
    if (chunk.kind === 'end') target.end();
    else target.write(chunk.data);
  }

  private connectUpstream(r: Relayed): void {
    const { host, port } = this.o.upstream;
    const upstream = new Socket({ allowHalfOpen: true });
    r.upstream = upstream;
    upstream.on('error', (err) => {
      this.log.debug({ err: errorMessage(err) }, 'upstream socket error');
      if (!r.severed) r.client.resetAndDestroy();
    });
    this.read(r, upstream, 'down');
    upstream.connect(port, host);
  }

  /** Forgets `r` once both of its sockets are closed. */
  private maybeForget(r: Relayed): void {
    const upClosed = r.upstream === undefined || r.upstream.closed;
    if (!r.client.closed || !upClosed) return;
    this.live.delete(r);
    r.pipes.up.close();
    r.pipes.down.close();
  }

  private destroy(r: Relayed): void {
    r.pipes.up.close();
    r.pipes.down.close();
    r.client.destroy();
    r.upstream?.destroy();
    this.live.delete(r);
  }

  /** Keeps a severed upstream socket open, discarding what it sends. */
  private keepSilent(upstream: Socket): void {
    upstream.removeAllListeners('data');
    upstream.on('data', () => undefined);
    upstream.resume();
    this.zombies.add(upstream);
    upstream.once('close', () => this.zombies.delete(upstream));
  }
}
