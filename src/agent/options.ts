/**
 * The agent's reconnect option, filled with its defaults and checked.
 */
import { AgentOptionError } from './errors.ts';
import type { ReconnectTiming } from './link.ts';

/** First delay before reconnecting, ms (jittered: half to all of it). */
export const RECONNECT_INITIAL_DELAY_MS = 100;
/** Largest delay between reconnect attempts, ms. */
export const RECONNECT_MAX_DELAY_MS = 5000;

/** Timing of reconnect attempts; each delay doubles up to the largest. */
export interface ReconnectOptions {
  /** First delay, ms; default 100. */
  initialDelayMs?: number;
  /** Largest delay, ms; at least initialDelayMs; default 5000. */
  maxDelayMs?: number;
}

/**
 * The timing to use, or false when reconnecting is off (default on).
 * @throws AgentOptionError when a delay is not a positive finite number
 *   or maxDelayMs is below initialDelayMs.
 */
export function resolveReconnect(
  r: boolean | ReconnectOptions | undefined,
): ReconnectTiming | false {
  if (r === false) return false;
  const o = r === true || r === undefined ? {} : r;
  const initialDelayMs = o.initialDelayMs ?? RECONNECT_INITIAL_DELAY_MS;
  const maxDelayMs =
    o.maxDelayMs ?? Math.max(RECONNECT_MAX_DELAY_MS, initialDelayMs);
  for (const [option, v] of [
    ['reconnect.initialDelayMs', initialDelayMs],
    ['reconnect.maxDelayMs', maxDelayMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) {
      throw new AgentOptionError(
        `${option} must be a positive number of milliseconds, not ${v}`,
        { option },
      );
    }
  }
  if (maxDelayMs < initialDelayMs) {
    throw new AgentOptionError(
      `reconnect.maxDelayMs (${maxDelayMs}) is below ` +
        `reconnect.initialDelayMs (${initialDelayMs})`,
      { option: 'reconnect.maxDelayMs' },
    );
  }
  return { initialDelayMs, maxDelayMs };
}
