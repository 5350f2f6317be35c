/**
 * Errors of the impairment tools (netem/): profile validation, the
 * `tc netem` backend and the network-namespace helpers.
 */
import { WavemqError } from '../src/common/index.ts';

/** A profile file or override is malformed; `field` names the culprit. */
export class ProfileError extends WavemqError<{
  /** Profile name or file path. */
  profile: string;
  /** Dotted path of the offending field, e.g. `up.lossPercent`. */
  field: string;
  /** What is wrong with it, in words. */
  problem: string;
}> {
  readonly code = 'NETEM_PROFILE_INVALID';
}

/** No profile of that name, and no readable file at that path. */
export class ProfileNotFoundError extends WavemqError<{
  profile: string;
  known: string[];
}> {
  readonly code = 'NETEM_PROFILE_NOT_FOUND';
}

/** The kernel has no netem qdisc (`Specified qdisc kind is unknown`). */
export class NetemUnsupportedError extends WavemqError<{
  iface: string;
}> {
  readonly code = 'NETEM_UNSUPPORTED';
}

/** A `tc`, `ip` or other system command failed. */
export class CommandError extends WavemqError<{
  argv: string[];
  /** Exit code, or null when killed by a signal. */
  exitCode: number | null;
  /** The command's error output, trimmed to 2 000 characters. */
  stderr: string;
}> {
  readonly code = 'NETEM_COMMAND_FAILED';
}

/** A namespace operation was attempted without root privileges. */
export class NotRootError extends WavemqError<{ operation: string }> {
  readonly code = 'NETEM_NOT_ROOT';
}

/** The relay was asked to do something its state does not allow. */
export class RelayStateError extends WavemqError<{ state: string }> {
  readonly code = 'NETEM_RELAY_STATE';
}

/** The Mosquitto baseline could not be set up or run. */
export class BaselineError extends WavemqError<{
  /** install, start or bridge. */
  step: string;
  [key: string]: unknown;
}> {
  readonly code = 'NETEM_BASELINE';
}

/** A program the tools need is missing and could not be installed. */
export class PackageMissingError extends WavemqError<{
  binary: string;
  /** Debian's package that ships it. */
  pkg: string;
  /** Why it could not be installed, in words. */
  reason: string;
  /** apt-get's exit code, when it ran and failed. */
  exitCode: number | undefined;
}> {
  readonly code = 'NETEM_PACKAGE_MISSING';
}
