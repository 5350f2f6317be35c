/**
 * The process-wide guard against failures inside @matrixai/quic.
 *
 * The library turns its internal errors (for example a UDP send failing
 * with EPERM) into uncaught exceptions on purpose, thrown from event
 * listeners where no caller can catch them. Left alone, one unusual socket
 * error would end the whole router. The guard is one
 * `process.on('uncaughtException')` listener, installed once while any
 * QUIC transport exists. For an error of the library it asks each
 * registered transport to claim it (tear down the connection it belongs
 * to); when none can, every transport drops its client connections so the
 * layer above reconnects on fresh sockets. Anything else is rethrown from
 * the listener, which ends the process (exit code 7) exactly like an
 * unguarded exception, so real bugs still restart the service.
 */
import { errors as quicErrors } from '@matrixai/quic';

/** A transport's side of the guard. */
export interface FaultSink {
  /** Tears down what `err` belongs to and returns true, if it is ours. */
  claim(err: Error): boolean;
  /** Handles a library error nobody could attribute. */
  handleUnattributed(err: Error): void;
}

interface GuardState {
  sinks: Set<FaultSink>;
  listener: ((err: unknown) => void) | undefined;
}

// Kept on a global symbol so that even two loaded copies of this module
// share one listener and one set of sinks.
const STATE_KEY = Symbol.for('wavemq.transport.faultGuard');
const holder = globalThis as { [STATE_KEY]?: GuardState };
const state: GuardState = (holder[STATE_KEY] ??= {
  sinks: new Set(),
  listener: undefined,
});

/** Whether `err` was raised by the QUIC library. */
export function isQuicLibraryError(err: unknown): err is Error {
  if (!(err instanceof Error)) return false;
  return (
    err instanceof quicErrors.ErrorQUIC ||
    err instanceof quicErrors.ErrorQUICUndefinedBehaviour ||
    err instanceof quicErrors.ErrorQUICHostInvalid ||
    err instanceof quicErrors.ErrorQUICPortInvalid ||
    // A second copy of the library (another install path) has other
    // classes but the same names.
    err.name.startsWith('ErrorQUIC')
  );
}

function onUncaught(err: unknown): void {
  const sinks = state.sinks;
  if (!isQuicLibraryError(err) || sinks.size === 0) throw err;
  for (const sink of sinks) {
    if (sink.claim(err)) return;
  }
  for (const sink of sinks) sink.handleUnattributed(err);
}

/**
 * Adds `sink` to the guard, installing the process listener on first use.
 * Returns a function that removes the sink again (the listener stays).
 */
export function registerFaultSink(sink: FaultSink): () => void {
  if (!state.listener) {
    state.listener = onUncaught;
    process.on('uncaughtException', onUncaught);
  }
  state.sinks.add(sink);
  return () => {
    state.sinks.delete(sink);
  };
}

/** Number of installed guard listeners (0 or 1); for tests. */
export function faultGuardListenerCount(): number {
  return process
    .listeners('uncaughtException')
    .filter((listener) => listener === state.listener).length;
}
