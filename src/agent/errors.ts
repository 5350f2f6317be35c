import { WavemqError } from '../common/errors.ts';

/**
 * The router refused a request. `code` is the router's error code (for
 * example `PERMISSION_DENIED`), and the message says what was missing.
 */
export class RouterRefusedError extends WavemqError<{
  routerCode: string;
  routerData?: Record<string, unknown>;
}> {
  readonly code = 'ROUTER_REFUSED';
}

/** The connection to the router ended before an answer came. */
export class AgentDisconnectedError extends WavemqError<{ pending: number }> {
  readonly code = 'AGENT_DISCONNECTED';
}

/** The router answered with a frame the agent did not expect. */
export class AgentProtocolError extends WavemqError<{ frame: string }> {
  readonly code = 'AGENT_PROTOCOL';
}

/** No proof was given for the permission an operation needs. */
export class MissingProofError extends WavemqError<{ permission: string }> {
  readonly code = 'MISSING_PROOF';
}
