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

/**
 * The agent was closed (by `close()`, or by its signal while it was
 * reconnecting) before the call could complete.
 */
export class AgentClosedError extends WavemqError<{ pending?: number }> {
  readonly code = 'AGENT_CLOSED';
}

/**
 * Too many publishes are waiting for the agent to reconnect; this one was
 * refused. `max` is the bound (MAX_WAITING_PUBLISHES).
 */
export class PublishBacklogFullError extends WavemqError<{
  waiting?: number;
  max?: number;
}> {
  readonly code = 'PUBLISH_BACKLOG_FULL';
}

/**
 * The router that answered after a reconnect is not the one the agent
 * was talking to (another router id): its durable queues and the origin
 * signed into unacknowledged publishes belong to the old one, so the
 * agent closes instead of resuming.
 */
export class RouterChangedError extends WavemqError<{
  was?: string;
  now?: string;
}> {
  readonly code = 'ROUTER_CHANGED';
}

/** An option of Agent.connect is out of range. */
export class AgentOptionError extends WavemqError<{ option?: string }> {
  readonly code = 'AGENT_OPTION';
}

/**
 * True for failures of the link itself (the connection or a stream went
 * away), which a reconnect cures, as opposed to refusals and bad input.
 */
export function isLinkFailure(err: unknown): boolean {
  return (
    err instanceof AgentDisconnectedError ||
    (err instanceof WavemqError &&
      (err.code === 'STREAM_CLOSED' || err.code === 'CONNECTION_CLOSED'))
  );
}
