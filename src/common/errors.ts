/**
 * Base of every error wavemq raises on purpose. Each folder defines leaf
 * classes with a stable `code`; `wire/` maps codes to what goes on the wire.
 */
export abstract class WavemqError<
  D extends Record<string, unknown> = Record<string, unknown>,
> extends Error {
  /** Stable, machine-readable identifier, e.g. `PROOF_EXPIRED`. */
  abstract readonly code: string;
  /** Structured facts about the failure; never secrets or payloads. */
  readonly data: D;

  constructor(message: string, data: D, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.data = data;
  }
}

/** A broken internal invariant: ends the process; systemd restarts it. */
export class InvariantError extends WavemqError {
  readonly code = 'INVARIANT';
}

/** Throws an {@link InvariantError} when `condition` is false. */
export function invariant(
  condition: unknown,
  message: string,
  data: Record<string, unknown> = {},
): asserts condition {
  if (!condition) throw new InvariantError(message, data);
}

/** Text of any thrown value, for logs and in-band error frames. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
