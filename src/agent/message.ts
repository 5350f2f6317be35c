/**
 * Messages as an agent sees them, decoded from what the router stored.
 */
import { decode, parseWireMessage, type PayloadObject } from '../wire/index.ts';

/** A delivered or queried message. */
export interface ReceivedMessage {
  namespace: string;
  uri: string;
  payloads: PayloadObject[];
  /** Entity hash of the publisher. */
  publisher: string;
  /** Id of the router where it was published. */
  origin: string;
  persist: boolean;
  publishedAtMs: number;
  /** Sequence number in this subscription's queue (0 for queries). */
  seq: number;
  /** Messages this subscription's queue had dropped, in total, so far. */
  drops: number;
}

/** Decodes one stored message; throws when it is malformed. */
export function decodeStored(
  bytes: Uint8Array,
  seq: number,
  drops: number,
): ReceivedMessage {
  const m = parseWireMessage(decode(bytes));
  return {
    namespace: m.ns,
    uri: m.uri,
    payloads: m.payloads,
    publisher: m.publisher,
    origin: m.origin,
    persist: m.persist,
    publishedAtMs: m.ts,
    seq,
    drops,
  };
}

/** The first payload's content as UTF-8 text. */
export function payloadText(m: ReceivedMessage): string {
  const first = m.payloads[0];
  return first ? Buffer.from(first.content).toString('utf8') : '';
}
