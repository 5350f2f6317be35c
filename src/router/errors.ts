import { WavemqError } from '../common/errors.ts';

/** The peer named a proof or entity by hash that this router lacks. */
export class ProofNotCachedError extends WavemqError<{ hash: string }> {
  readonly code = 'PROOF_NOT_CACHED';
}

/** A message exceeds the largest one the router accepts. */
export class MessageTooLargeError extends WavemqError<{
  size: number;
  max: number;
}> {
  readonly code = 'MESSAGE_TOO_LARGE';
}

/** A signature over a message or request does not verify. */
export class BadSignatureError extends WavemqError<{ what: string }> {
  readonly code = 'BAD_SIGNATURE';
}

/** A field names something inconsistent (e.g. entity hash mismatch). */
export class BadRequestError extends WavemqError<{ field: string }> {
  readonly code = 'BAD_REQUEST';
}

/** The agent sent a frame that is not allowed at this point. */
export class UnexpectedFrameError extends WavemqError<{ frame: string }> {
  readonly code = 'UNEXPECTED_FRAME';
}

/** A newer connection took over this subscription. */
export class SubscriptionSupersededError extends WavemqError<{
  subscription: string;
}> {
  readonly code = 'SUBSCRIPTION_SUPERSEDED';
}

/** The subscription's queue ended (expired or unsubscribed). */
export class SubscriptionEndedError extends WavemqError<{
  subscription: string;
}> {
  readonly code = 'SUBSCRIPTION_ENDED';
}

/** A route proof is missing, invalid, or for another entity/namespace. */
export class RouteProofError extends WavemqError<{ file: string }> {
  readonly code = 'ROUTE_PROOF_INVALID';
}

/** A peer's entity does not match the key its link was made with. */
export class PeerIdentityError extends WavemqError<{ peer: string }> {
  readonly code = 'PEER_IDENTITY';
}

/** A site asked for a namespace this router is not designated for. */
export class NotDesignatedError extends WavemqError<{ ns: string }> {
  readonly code = 'NOT_DESIGNATED';
}

/** A trunk message is not the sending site's own, or not its namespace. */
export class TrunkMessageError extends WavemqError<{ field: string }> {
  readonly code = 'TRUNK_MESSAGE_INVALID';
}
