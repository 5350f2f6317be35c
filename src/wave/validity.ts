/** Validity windows of entities and attestations. */
import { systemClock, type Clock } from '../common/index.ts';
import { InvalidArgumentError } from './errors.ts';
import { malformed } from './fields.ts';

/** How long a new entity is valid by default: 365 days, in ms. */
export const DEFAULT_ENTITY_EXPIRY_MS = 365 * 24 * 3600 * 1000;
/** How long a new attestation is valid by default: 30 days, in ms. */
export const DEFAULT_ATTESTATION_EXPIRY_MS = 30 * 24 * 3600 * 1000;
/**
 * How far before its creation a new object becomes valid unless told
 * otherwise: 60 s, so routers whose clocks lag a little accept it.
 */
export const DEFAULT_BACKDATE_MS = 60_000;

/** An object is valid from notBeforeMs (inclusive) to notAfterMs (not). */
export interface ValidityWindow {
  notBeforeMs: number;
  notAfterMs: number;
}

/** Options shared by `Entity.create` and `Attestation.create`. */
export interface ValidityOptions {
  /** Start of validity, ms since the epoch; default now - 60 s. */
  notBeforeMs?: number;
  /** Validity after creation (a duration), ms. */
  expiryMs?: number;
  /** Source of "now"; default the system clock. */
  clock?: Clock;
}

/**
 * The window for a new object: from `notBeforeMs` to now + `expiryMs`.
 * @throws InvalidArgumentError for non-integers or an empty window.
 */
export function newWindow(
  o: ValidityOptions,
  defaultExpiryMs: number,
): ValidityWindow {
  const now = (o.clock ?? systemClock).now();
  const expiryMs = o.expiryMs ?? defaultExpiryMs;
  const notBeforeMs = o.notBeforeMs ?? Math.max(0, now - DEFAULT_BACKDATE_MS);
  const bad = (argument: string, reason: string): never => {
    throw new InvalidArgumentError(`${argument} ${reason}`, {
      argument,
      reason,
    });
  };
  if (!Number.isSafeInteger(expiryMs) || expiryMs <= 0) {
    bad('expiryMs', 'must be a positive integer (ms)');
  }
  if (!Number.isSafeInteger(notBeforeMs) || notBeforeMs < 0) {
    bad('notBeforeMs', 'must be a non-negative integer (ms)');
  }
  const notAfterMs = now + expiryMs;
  if (notBeforeMs >= notAfterMs) bad('notBeforeMs', 'is not before expiry');
  return { notBeforeMs, notAfterMs };
}

/** Checks a decoded window; throws MalformedObjectError for `kind`. */
export function checkWindow(w: ValidityWindow, kind: string): void {
  if (w.notBeforeMs >= w.notAfterMs) {
    malformed(kind, 'notBeforeMs is not before notAfterMs');
  }
}

/** Where `nowMs` falls relative to `w`. */
export function windowStatus(
  w: ValidityWindow,
  nowMs: number,
): 'valid' | 'expired' | 'not-yet-valid' {
  if (nowMs < w.notBeforeMs) return 'not-yet-valid';
  if (nowMs >= w.notAfterMs) return 'expired';
  return 'valid';
}
