/**
 * A Connection over one @matrixai/quic connection, client or server side.
 */
import {
  errors as quicErrors,
  events as quicEvents,
  type QUICClient,
  type QUICConnection,
  type QUICStream,
} from '@matrixai/quic';
import { errorMessage } from '../common/index.ts';
import { BaseConnection, type ConnectionSettings } from './connection-base.ts';
import type { StreamChannel } from './frame-stream.ts';
import { isResumed } from './session-resumption.ts';
import { ed25519KeyOfCert } from './tls.ts';

/** How often a caller waiting for peer stream credit re-checks, in ms. */
const CREDIT_POLL_MS = 20;

/** Application error code sent with our CONNECTION_CLOSE. */
const APP_CLOSE_CODE = 0;

/** The native quiche connection, which the library keeps protected. */
interface NativeConnection {
  peerStreamsLeftBidi(): number;
}

/** A human-readable reason for the library's connection-ending error. */
export function closeReasonOf(err: unknown): string {
  if (err instanceof quicErrors.ErrorQUICConnectionIdleTimeout) {
    return 'idle timeout';
  }
  if (err instanceof quicErrors.ErrorQUICConnectionPeerTLS) {
    return `peer rejected TLS: ${err.message}`;
  }
  if (err instanceof quicErrors.ErrorQUICConnectionPeer) {
    const data = err.data as { reason?: Uint8Array; isApp?: boolean };
    const text = data.reason ? Buffer.from(data.reason).toString('utf8') : '';
    return data.isApp && text ? `peer closed: ${text}` : err.message;
  }
  // Several library errors carry only a class name, no message.
  return errorMessage(err) || (err instanceof Error ? err.name : 'unknown');
}

/** See the module comment. */
export class QuicLink extends BaseConnection {
  readonly id: string;
  readonly peerPublicKey: Uint8Array | undefined;
  /** True when the handshake resumed an earlier TLS session. */
  readonly resumed: boolean;
  private endReason: string | undefined;

  constructor(
    private readonly conn: QUICConnection,
    settings: ConnectionSettings,
    private readonly client?: QUICClient,
  ) {
    const id = conn.connectionIdShared.toString().slice(0, 16);
    super({
      ...settings,
      logger: settings.logger.child({ conn: id, side: settings.side }),
    });
    this.id = id;
    const leaf = conn.getRemoteCertsChain()[0];
    this.peerPublicKey = leaf ? ed25519KeyOfCert(leaf) : undefined;
    this.resumed = isResumed(conn);
    conn.addEventListener(
      quicEvents.EventQUICConnectionStream.name,
      this.onQuicStream,
    );
    conn.addEventListener(
      quicEvents.EventQUICConnectionError.name,
      this.onQuicError,
    );
    void conn.closedP.then(() =>
      this.markClosed(this.endReason ?? 'connection closed'),
    );
    this.log.info({ remote: this.remote, resumed: this.resumed }, 'link up');
  }

  /** @inheritdoc */
  get remote(): { host: string; port: number } {
    return { host: this.conn.remoteHost, port: this.conn.remotePort };
  }

  /** The library's id for this connection's outgoing datagrams. */
  get sendId(): string {
    return this.conn.sendId;
  }

  /**
   * Ends the link after a library fault: the connection state can no
   * longer be trusted, so nothing is flushed.
   */
  abort(reason: string): void {
    this.endReason ??= reason;
    this.markClosed(reason);
    void this.shutdown(reason);
  }

  protected override async waitForCredit(signal?: AbortSignal): Promise<void> {
    const native = (this.conn as unknown as { conn?: NativeConnection }).conn;
    // Without the native call (another library version) the semaphore
    // alone keeps us below the limit.
    if (typeof native?.peerStreamsLeftBidi !== 'function') return;
    while (!this.isClosed && native.peerStreamsLeftBidi() <= 0) {
      signal?.throwIfAborted();
      await new Promise((resolve) => {
        setTimeout(resolve, CREDIT_POLL_MS).unref();
      });
    }
  }

  protected override createChannel(): { id: number; channel: StreamChannel } {
    let stream: QUICStream;
    try {
      stream = this.conn.newStream('bidi');
    } catch (err) {
      // Past the peer's limit the library can never open a stream on this
      // connection again; replace the connection rather than keep it.
      if (err instanceof quicErrors.ErrorQUICStreamLimit) {
        this.abort('stream limit reached');
      }
      throw err;
    }
    return { id: stream.streamId, channel: quicChannel(stream) };
  }

  protected override async shutdown(reason: string): Promise<void> {
    const opts = {
      isApp: true as const,
      errorCode: APP_CLOSE_CODE,
      reason: Buffer.from(reason.slice(0, 200), 'utf8'),
      force: true,
    };
    try {
      if (this.client) await this.client.destroy(opts);
      else await this.conn.stop(opts);
    } catch (err) {
      // The connection may already be gone underneath; it is closed either
      // way, which is what shutdown promises.
      this.log.debug({ err: errorMessage(err) }, 'connection stop failed');
    }
  }

  private readonly onQuicStream = (evt: Event): void => {
    const stream = (evt as quicEvents.EventQUICConnectionStream).detail;
    this.acceptStream(stream.streamId, quicChannel(stream));
  };

  private readonly onQuicError = (evt: Event): void => {
    const err = (evt as quicEvents.EventQUICConnectionError).detail;
    this.endReason ??= closeReasonOf(err);
  };
}

/** Adapts a QUICStream to the channel a ChannelFrameStream reads. */
function quicChannel(stream: QUICStream): StreamChannel {
  const peerStopped = new Promise<void>((resolve) => {
    const onError = (evt: Event): void => {
      const err = (evt as quicEvents.EventQUICStreamError).detail;
      if (err instanceof quicErrors.ErrorQUICStreamPeerWrite) resolve();
    };
    stream.addEventListener(quicEvents.EventQUICStreamError.name, onError);
    void stream.closedP.then(() => {
      stream.removeEventListener(quicEvents.EventQUICStreamError.name, onError);
    });
  });
  return {
    readable: stream.readable,
    writable: stream.writable,
    peerStopped,
    released: stream.closedP,
    reset: (reason) => {
      try {
        stream.cancel(new Error(reason));
      } catch (err) {
        // cancel() throws only when quiche already dropped the stream,
        // which is the state a reset wants.
        void err;
      }
    },
  };
}
