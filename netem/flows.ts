/**
 * The relay's client table: one upstream UDP socket per client address
 * and port, like the mapping a NAT keeps, so the designated router sees a
 * distinct source per client. Rebinding swaps a flow's socket for a fresh
 * one (a new source port, and a new source address when several are
 * given); the old mapping is closed at once, as after a NAT reboot.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { errorMessage, type Logger } from '../src/common/index.ts';
import { addressOf, bound, closeSocket } from './sockets.ts';

/** One client of the relay. */
export interface Flow {
  /** `address:port` of the client as the relay sees it. */
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The socket that sends this client's packets upstream now. */
  socket: Socket;
  /** Last packet in either direction, scheduler ms. */
  lastSeenMs: number;
  /** How often this flow's source changed. */
  rebinds: number;
}

/** Public view of a flow. */
export interface FlowInfo {
  client: string;
  /** Source address and port the designated router sees; port 0 while
   *  the socket is still binding. */
  sourceAddress: string;
  sourcePort: number;
  rebinds: number;
}

/** Options of {@link FlowTable}. */
export interface FlowTableOptions {
  /** The upstream's address (resolved); the socket family follows it. */
  upstreamHost: () => string;
  /** Addresses to bind upstream sockets to, used in turn on each rebind;
   *  default the wildcard address. */
  sourceHosts: readonly string[];
  /** Called with each datagram the upstream sends to a flow. */
  onUpstreamMessage: (flow: Flow, data: Buffer) => void;
  logger: Logger;
}

/** Client flows and their upstream sockets. */
export class FlowTable {
  private readonly flows = new Map<string, Flow>();
  private readonly o: FlowTableOptions;
  private nextHost = 0;

  constructor(o: FlowTableOptions) {
    this.o = o;
  }

  /** Flows open now. */
  get size(): number {
    return this.flows.size;
  }

  /** The flow of `key`, if open. */
  get(key: string): Flow | undefined {
    return this.flows.get(key);
  }

  /** Opens a flow for a new client; its socket binds in the background. */
  open(address: string, port: number, nowMs: number): Flow {
    const key = `${address}:${port}`;
    const flow: Flow = {
      key,
      clientAddress: address,
      clientPort: port,
      socket: undefined as unknown as Socket,
      lastSeenMs: nowMs,
      rebinds: 0,
    };
    flow.socket = this.bindSocket(flow);
    this.flows.set(key, flow);
    return flow;
  }

  /**
   * Gives every flow a new upstream socket and closes the old one once
   * the new one is bound. A flow whose new socket cannot bind keeps its
   * old one. Resolves with how many flows moved and how many could not.
   */
  async rebindAll(): Promise<{ moved: number; failed: number }> {
    const result = { moved: 0, failed: 0 };
    const moves = [...this.flows.values()].map(async (flow) => {
      const next = this.bindSocket(flow);
      try {
        await bound(next);
      } catch (err) {
        result.failed++;
        void closeSocket(next);
        this.o.logger.warn(
          { client: flow.key, err: errorMessage(err) },
          'cannot bind a new upstream socket; the old one stays',
        );
        return;
      }
      if (this.flows.get(flow.key) !== flow) {
        void closeSocket(next); // expired while binding
        return;
      }
      const old = flow.socket;
      flow.socket = next;
      flow.rebinds++;
      result.moved++;
      void closeSocket(old);
    });
    await Promise.all(moves);
    return result;
  }

  /** Closes flows with no packet since `beforeMs`; returns how many. */
  expire(beforeMs: number): number {
    let closed = 0;
    for (const flow of this.flows.values()) {
      if (flow.lastSeenMs >= beforeMs) continue;
      this.flows.delete(flow.key);
      void closeSocket(flow.socket);
      closed++;
    }
    return closed;
  }

  /** Closes every flow and waits for the sockets to close. */
  async closeAll(): Promise<void> {
    const closing = [...this.flows.values()].map((f) => closeSocket(f.socket));
    this.flows.clear();
    await Promise.all(closing);
  }

  /** A snapshot of the flows. */
  info(): FlowInfo[] {
    return [...this.flows.values()].map((f) => {
      const addr = addressOf(f.socket);
      return {
        client: f.key,
        sourceAddress: addr?.address ?? '',
        sourcePort: addr?.port ?? 0,
        rebinds: f.rebinds,
      };
    });
  }

  private bindSocket(flow: Flow): Socket {
    const socket = createSocket(
      isIPv6(this.o.upstreamHost()) ? 'udp6' : 'udp4',
    );
    const hosts = this.o.sourceHosts;
    const host = hosts.length > 0 ? hosts[this.nextHost++ % hosts.length] : '';
    socket.on('message', (data) => {
      // A late datagram on a replaced socket belongs to a dead mapping.
      if (flow.socket === socket) this.o.onUpstreamMessage(flow, data);
    });
    socket.on('error', (err) => {
      this.o.logger.warn(
        { client: flow.key, err: errorMessage(err) },
        'upstream socket error',
      );
    });
    if (host) socket.bind(0, host);
    else socket.bind(0);
    return socket;
  }
}
