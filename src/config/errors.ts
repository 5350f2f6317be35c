import { WavemqError } from '../common/index.ts';

/** Facts about a rejected configuration. */
export interface ConfigErrorData extends Record<string, unknown> {
  /** The file being read, or undefined for a built-in configuration. */
  file: string | undefined;
  /**
   * Key path of the first problem, e.g. `RoutingConfig.Router[0].Namespace`;
   * undefined when the problem is the file itself (missing, not TOML).
   */
  key: string | undefined;
  /** 1-based position of a TOML syntax error, when there is one. */
  line?: number;
  /** 1-based column of a TOML syntax error, when there is one. */
  column?: number;
}

/**
 * The configuration cannot be used: the file is missing or unreadable, is
 * not TOML, or a key is unknown, ill-typed or out of range. The message
 * names the file and every offending key, and says what is expected.
 */
export class ConfigError extends WavemqError<ConfigErrorData> {
  readonly code = 'CONFIG_INVALID';
}

/**
 * Text that should be `host:port` is not. Thrown by `parseHostPort`; the
 * config loader wraps it in a {@link ConfigError} naming the key.
 */
export class InvalidAddressError extends WavemqError<{
  address: string;
  /** What is wrong, e.g. `the port must be 1..65535`. */
  reason: string;
}> {
  readonly code = 'ADDRESS_INVALID';
}
