/**
 * The agent's control stream: requests carry an `id`; answers (puback,
 * status, qres, err) are matched back to the waiting caller by that id.
 */
import type { FrameStream } from '../transport/index.ts';
import { errorMessage } from '../common/errors.ts';
import { AgentDisconnectedError, RouterRefusedError } from './errors.ts';

type Obj = Record<string, unknown>;

interface Waiter {
  resolve: (frame: Obj) => void;
  reject: (err: Error) => void;
}

/** Turns a router `err` frame into a {@link RouterRefusedError}. */
export function refusal(frame: Obj): RouterRefusedError {
  const code = typeof frame['code'] === 'string' ? frame['code'] : 'UNKNOWN';
  const message =
    typeof frame['message'] === 'string' ? frame['message'] : 'refused';
  const data = frame['data'] as Record<string, unknown> | undefined;
  return new RouterRefusedError(message, {
    routerCode: code,
    ...(data ? { routerData: data } : {}),
  });
}

/** Request/answer matching over one stream. */
export class ControlChannel {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();
  private ended: Error | undefined;
  readonly done: Promise<void>;

  constructor(readonly stream: FrameStream) {
    this.done = this.read();
  }

  /** Sends `frame` with a fresh id and resolves with the answer. */
  request(frame: Obj): Promise<Obj> {
    if (this.ended) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise<Obj>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.stream.send({ ...frame, id }).catch((err: unknown) => {
        this.waiting.delete(id);
        reject(err instanceof Error ? err : new Error(errorMessage(err)));
      });
    });
  }

  /** Sends a frame that expects no answer. */
  async send(frame: Obj): Promise<void> {
    await this.stream.send(frame);
  }

  /** Waits for one frame with no id (the welcome). */
  private pendingUnsolicited: Waiter | undefined;
  nextUnsolicited(): Promise<Obj> {
    return new Promise((resolve, reject) => {
      this.pendingUnsolicited = { resolve, reject };
    });
  }

  private async read(): Promise<void> {
    try {
      for await (const value of this.stream.frames()) {
        this.dispatch(value as Obj);
      }
      this.fail(
        new AgentDisconnectedError('router closed the connection', {
          pending: this.waiting.size,
        }),
      );
    } catch (err) {
      this.fail(
        new AgentDisconnectedError(
          `connection to router failed: ${errorMessage(err)}`,
          { pending: this.waiting.size },
        ),
      );
    }
  }

  private dispatch(frame: Obj): void {
    const id = frame['id'];
    const waiter = typeof id === 'number' ? this.waiting.get(id) : undefined;
    if (typeof id === 'number' && waiter) {
      this.waiting.delete(id);
      if (frame['t'] === 'err') waiter.reject(refusal(frame));
      else waiter.resolve(frame);
      return;
    }
    const u = this.pendingUnsolicited;
    this.pendingUnsolicited = undefined;
    if (!u) return;
    if (frame['t'] === 'err') u.reject(refusal(frame));
    else u.resolve(frame);
  }

  private fail(err: Error): void {
    this.ended ??= err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    this.pendingUnsolicited?.reject(err);
    this.pendingUnsolicited = undefined;
  }
}
