import type { QUICServer } from '@matrixai/quic';
import { errorMessage, type Logger } from '../common/index.ts';
import type { QuicLink } from './quic-connection.ts';
import type { Listener } from './types.ts';

/** A started QUIC server and the connections it accepted. */
export class QuicListener implements Listener {
  private readonly links = new Set<QuicLink>();
  private stopping: Promise<void> | undefined;
  // Read once bound: the library's getters throw after stop().
  private boundHost = '';
  private boundPort = 0;

  constructor(
    private readonly server: QUICServer,
    private readonly log: Logger,
    private readonly onStopped?: () => void,
  ) {}

  /** @inheritdoc */
  get host(): string {
    return this.boundHost;
  }

  /** @inheritdoc */
  get port(): number {
    return this.boundPort;
  }

  /** Tracks an accepted connection so stop() can close it. */
  add(link: QuicLink): void {
    this.links.add(link);
    void link.closed.then(() => this.links.delete(link));
  }

  /** Called once the server is bound; ties stop() to `signal`. */
  started(signal: AbortSignal | undefined): void {
    this.boundHost = this.server.host;
    this.boundPort = this.server.port;
    this.log.info({ host: this.host, port: this.port }, 'listening');
    if (!signal) return;
    if (signal.aborted) {
      void this.stop();
      return;
    }
    signal.addEventListener('abort', () => void this.stop(), { once: true });
  }

  /** @inheritdoc */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const links = [...this.links];
    await Promise.all(links.map((link) => link.close('server stopping')));
    try {
      await this.server.stop({ isApp: true, errorCode: 0, force: true });
    } catch (err) {
      // A server whose socket already failed is stopped all the same.
      this.log.debug({ err: errorMessage(err) }, 'server stop failed');
    }
    this.onStopped?.();
    this.log.info({ port: this.port }, 'listener stopped');
  }
}
