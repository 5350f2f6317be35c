/**
 * Serves one agent connection. The agent's first stream is its control
 * stream (hello, publish, status, query); every later stream it opens
 * carries one subscription. Bad input on a stream gets an `err` frame
 * naming what is wrong, is counted, and ends only that stream.
 */
import type { Logger } from '../common/logger.ts';
import { WavemqError, errorMessage } from '../common/errors.ts';
import type { Connection, FrameStream } from '../transport/index.ts';
import {
  PROTOCOL_VERSION,
  encode,
  parseAgentFrame,
  type AgentFrame,
  type WireMessage,
} from '../wire/index.ts';
import type { Router } from './router.ts';
import {
  BadRequestError,
  ProofNotCachedError,
  MessageTooLargeError,
  UnexpectedFrameError,
} from './errors.ts';
import { serveSubscription } from './subscription-stream.ts';
import { errorFrame } from './error-frame.ts';

/** Most publish frames whose durable append may be pending at once. */
const MAX_PENDING_PUBLISHES = 64;

/** Handles every stream of one agent connection. */
export function serveAgent(router: Router, conn: Connection): void {
  const log = router.logger.child({ component: 'agent', conn: conn.id });
  router.metrics.agents.inc();
  log.debug({ remote: conn.remote }, 'agent connected');
  void conn.closed.then(({ reason }) => {
    router.metrics.agents.dec();
    log.debug({ reason }, 'agent disconnected');
  });
  conn.onStream((stream) => {
    void serveStream(router, stream, log).catch((err: unknown) => {
      log.debug({ err: errorMessage(err) }, 'agent stream ended with error');
    });
  });
}

async function serveStream(
  router: Router,
  stream: FrameStream,
  log: Logger,
): Promise<void> {
  const frames = stream.frames()[Symbol.asyncIterator]();
  try {
    const first = await frames.next();
    if (first.done) return;
    const frame = parseAgentFrame(first.value);
    if (frame.t === 'sub') {
      await serveSubscription(router, stream, frames, frame.req, log);
    } else {
      await serveControl(router, stream, frames, frame, log);
    }
  } catch (err) {
    await rejectStream(router, stream, err, log);
  } finally {
    await stream.close();
  }
}

/** Reports a stream-ending error to the agent and counts it. */
async function rejectStream(
  router: Router,
  stream: FrameStream,
  err: unknown,
  log: Logger,
): Promise<void> {
  const code = err instanceof WavemqError ? err.code : 'INTERNAL';
  router.metrics.badFrames.inc({ code });
  log.debug({ code, err: errorMessage(err) }, 'agent stream rejected');
  await stream.send(errorFrame(err)).catch((e: unknown) => {
    log.debug({ err: errorMessage(e) }, 'could not report error to agent');
  });
}

async function serveControl(
  router: Router,
  stream: FrameStream,
  frames: AsyncIterator<unknown>,
  first: AgentFrame,
  log: Logger,
): Promise<void> {
  const state: ControlState = { pending: [], turn: Promise.resolve() };
  let frame: AgentFrame | undefined = first;
  while (frame) {
    await handleControl(router, stream, frame, state, log);
    const next = await frames.next();
    frame = next.done ? undefined : parseAgentFrame(next.value);
  }
  await Promise.all(state.pending);
}

/**
 * Publishes are admitted concurrently but handed to the queues strictly in
 * the order they arrived: `turn` resolves once the previous frame has done
 * so, which keeps order per publisher session.
 */
interface ControlState {
  pending: Promise<void>[];
  turn: Promise<void>;
}

async function handleControl(
  router: Router,
  stream: FrameStream,
  frame: AgentFrame,
  state: ControlState,
  log: Logger,
): Promise<void> {
  switch (frame.t) {
    case 'hello':
      return stream.send({
        t: 'welcome',
        v: PROTOCOL_VERSION,
        router: router.id,
        entity: router.entityHash,
        maxMessageBytes: router.maxMessageBytes,
      });
    case 'pub': {
      if (state.pending.length >= MAX_PENDING_PUBLISHES) {
        await state.pending.shift();
      }
      const previous = state.turn;
      let release = (): void => undefined;
      state.turn = new Promise((resolve) => (release = resolve));
      const job = { id: frame.id, msgs: frame.msgs, previous, release };
      state.pending.push(publish(router, stream, job, log));
      return;
    }
    case 'status':
      return stream.send({
        t: 'status',
        id: frame.id,
        status: router.status(),
      });
    case 'query':
      return answerQuery(router, stream, frame, log);
    case 'sub':
    case 'ack':
    case 'close':
      throw new UnexpectedFrameError(
        `frame '${frame.t}' is not allowed on the control stream`,
        { frame: frame.t },
      );
  }
}

/** One `pub` frame waiting for its turn to reach the queues. */
interface PublishJob {
  id: number;
  msgs: WireMessage[];
  previous: Promise<void>;
  release: () => void;
}

/** Admits, stores and acknowledges one `pub` frame; errors go in-band. */
async function publish(
  router: Router,
  stream: FrameStream,
  job: PublishJob,
  log: Logger,
): Promise<void> {
  let admitted: Awaited<ReturnType<typeof admit>> | undefined;
  let stored: Promise<void> | undefined;
  let failure: unknown;
  try {
    admitted = await admit(router, job.msgs);
  } catch (err) {
    failure = err;
  }
  await job.previous;
  if (failure instanceof ProofNotCachedError) {
    // An earlier frame of this connection may carry the proof or entity
    // in full and was still being admitted; it has been now, so look
    // again once before refusing.
    try {
      admitted = await admit(router, job.msgs);
      failure = undefined;
    } catch (err) {
      failure = err;
    }
  }
  try {
    if (admitted) stored = router.route(admitted, { from: 'local' });
  } catch (err) {
    failure = err;
  } finally {
    job.release();
  }
  if (!stored) {
    router.countRejection(failure, log);
    await stream.send(errorFrame(failure, job.id));
    return;
  }
  try {
    await stored;
    await stream.send({ t: 'puback', id: job.id, count: job.msgs.length });
  } catch (err) {
    log.error({ err: errorMessage(err) }, 'durable append failed');
    await stream.send(errorFrame(err, job.id));
  }
}

async function admit(
  router: Router,
  msgs: WireMessage[],
): Promise<{ m: WireMessage; bytes: Uint8Array }[]> {
  const admitted = [];
  for (const m of msgs) {
    if (m.origin !== router.id) {
      throw new BadRequestError(
        `message origin must be this router (${router.id})`,
        { field: 'origin' },
      );
    }
    await router.authorizer.admitMessage(m);
    const bytes = storedBytes(m);
    if (bytes.length > router.maxMessageBytes) {
      throw new MessageTooLargeError(
        `message on ${m.uri} is ${bytes.length} bytes; the most is ` +
          `${router.maxMessageBytes}`,
        { size: bytes.length, max: router.maxMessageBytes },
      );
    }
    admitted.push({ m, bytes });
  }
  return admitted;
}

/** The bytes a message is queued as: proof and entity travel by hash. */
export function storedBytes(m: WireMessage): Uint8Array {
  const rest: WireMessage = { ...m };
  delete rest.proof;
  delete rest.entity;
  return encode(rest);
}

async function answerQuery(
  router: Router,
  stream: FrameStream,
  frame: Extract<AgentFrame, { t: 'query' }>,
  log: Logger,
): Promise<void> {
  try {
    await router.authorizer.admitRequest(frame.req);
    const { msgs, stale } = await router.query(frame.req);
    await stream.send({ t: 'qres', id: frame.id, msgs, done: true, stale });
  } catch (err) {
    router.countRejection(err, log);
    await stream.send(errorFrame(err, frame.id));
  }
}
