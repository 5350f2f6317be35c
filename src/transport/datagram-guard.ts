/**
 * Keeps one bad datagram from ending the process.
 *
 * The QUIC library handles each received datagram in an async listener on
 * its UDP socket; whatever that listener throws becomes an unhandled
 * rejection, which ends a Node process. Some malformed packets make the
 * library fail with a plain TypeError rather than one of its own errors
 * (a 0-RTT long header for an unknown connection: the library reads the
 * token such packets do not carry). Anyone who can send one UDP packet
 * to a listening port could then stop the router.
 *
 * `guardDatagrams` wraps the socket's datagram handler before the socket
 * starts: an error that is not the library's own is caught, and the
 * datagram is dropped and reported. The library's own errors go on to the
 * process guard (`fault-guard.ts`) as before, which tears down the
 * connection they belong to.
 */
import { isQuicLibraryError } from './fault-guard.ts';

type DatagramHandler = (
  data: Buffer,
  remote: { address: string; port: number },
) => Promise<void>;

/** The library socket's handler field, read through its internals. */
interface SocketInternals {
  handleSocketMessage?: unknown;
}

/**
 * Wraps the datagram handler of the library's socket (`socket` is the
 * `socket` field of a QUICServer or QUICClient, before it starts). Returns
 * a problem description when the internals are not as expected, in which
 * case nothing was changed.
 */
export function guardDatagrams(
  socket: unknown,
  onDropped: (err: unknown, remote: string) => void,
): string | undefined {
  const s = socket as SocketInternals | null | undefined;
  if (!s || typeof s.handleSocketMessage !== 'function') {
    return 'the library socket has no datagram handler to wrap';
  }
  const original = s.handleSocketMessage as DatagramHandler;
  const guarded: DatagramHandler = async (data, remote) => {
    try {
      await original(data, remote);
    } catch (err) {
      if (isQuicLibraryError(err)) throw err;
      onDropped(err, `${remote.address}:${remote.port}`);
    }
  };
  s.handleSocketMessage = guarded;
  return undefined;
}
