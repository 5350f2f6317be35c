import { WavemqError } from '../common/errors.ts';

/**
 * An item is larger than its queue's `maxBytes`, so no amount of dropping
 * could make room. Raised before anything is written: the whole
 * `appendMany` call is refused.
 */
export class QueueItemTooLargeError extends WavemqError<{
  queue: string;
  sizeBytes: number;
  maxBytes: number;
}> {
  readonly code = 'QUEUE_ITEM_TOO_LARGE';
}

/** The named queue does not exist (never created, deleted or expired). */
export class QueueNotFoundError extends WavemqError<{ queue: string }> {
  readonly code = 'QUEUE_NOT_FOUND';
}

/**
 * An ack named a sequence number that was never assigned (above the
 * queue's `tailSeq`) or is not a safe integer. Nothing was removed.
 */
export class QueueAckOutOfRangeError extends WavemqError<{
  queue: string;
  uptoSeq: number;
  tailSeq: number;
}> {
  readonly code = 'QUEUE_ACK_OUT_OF_RANGE';
}

/** A queue spec or queue id breaks a rule; `data.field` names which. */
export class InvalidQueueSpecError extends WavemqError<{
  queue: string;
  field: string;
}> {
  readonly code = 'INVALID_QUEUE_SPEC';
}

/** The queue manager was closed; no further reads or writes. */
export class QueueClosedError extends WavemqError<Record<string, never>> {
  readonly code = 'QUEUE_CLOSED';
}

/** A queue was deleted (or expired) while a consumer waited on it. */
export class QueueDeletedError extends WavemqError<{ queue: string }> {
  readonly code = 'QUEUE_DELETED';
}

/**
 * The data store refused a write. Nothing from the failed batch is stored
 * and in-memory queue state is unchanged; `cause` holds the store's error.
 */
export class QueueWriteError extends WavemqError<{ operations: number }> {
  readonly code = 'QUEUE_WRITE_FAILED';
}

/** A stored queue record could not be read back (corrupt or unknown). */
export class QueueRecordError extends WavemqError<{
  table: string;
  reason: string;
}> {
  readonly code = 'QUEUE_RECORD_INVALID';
}
