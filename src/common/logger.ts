import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level; default `info`, or `WAVEMQ_LOG_LEVEL` when set. */
  level?: LevelWithSilent;
  /** Where lines go; default stdout (journald-friendly JSON lines). */
  destination?: NodeJS.WritableStream;
}

/** A structured logger writing one JSON event per line. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level =
    options.level ??
    (process.env['WAVEMQ_LOG_LEVEL'] as LevelWithSilent | undefined) ??
    'info';
  const opts = { level, base: { pid: process.pid } };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that discards everything; for tests and library callers. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
