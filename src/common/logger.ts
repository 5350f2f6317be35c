import { pino, type Logger, type LevelWithSilent } from 'pino';
import { WavemqError } from './errors.ts';

export type { Logger } from 'pino';

/** Environment variable that sets the default log level. */
export const LOG_LEVEL_ENV = 'WAVEMQ_LOG_LEVEL';

/** Every level a logger accepts, from the quietest. */
export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'silent',
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
];

/** A log level that is not one of {@link LOG_LEVELS}. */
export class LogLevelError extends WavemqError<{
  /** Where the level came from, e.g. `WAVEMQ_LOG_LEVEL`. */
  source: string;
  level: string;
}> {
  readonly code = 'LOG_LEVEL_INVALID';
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Minimum level; default `info`, or `WAVEMQ_LOG_LEVEL` when set. */
  level?: LevelWithSilent;
  /** Where lines go; default stdout (journald-friendly JSON lines). */
  destination?: NodeJS.WritableStream;
}

/** The level `WAVEMQ_LOG_LEVEL` names, or undefined when it is unset. */
function envLevel(): LevelWithSilent | undefined {
  const text = process.env[LOG_LEVEL_ENV];
  if (text === undefined || text === '') return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(text)) {
    throw new LogLevelError(
      `${LOG_LEVEL_ENV}=${JSON.stringify(text)} is not a log level; ` +
        `use one of ${LOG_LEVELS.join(', ')}`,
      { source: LOG_LEVEL_ENV, level: text },
    );
  }
  return text as LevelWithSilent;
}

/**
 * A structured logger writing one JSON event per line.
 * @throws LogLevelError when `WAVEMQ_LOG_LEVEL` is set to an unknown level.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? envLevel() ?? 'info';
  const opts = { level, base: { pid: process.pid } };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}

/** A logger that discards everything; for tests and library callers. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
