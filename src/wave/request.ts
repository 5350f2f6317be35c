/**
 * Digests of signed subscribe and query requests. The digest binds every
 * field a router must not be able to change: the kind of request, the
 * namespace, the pattern, who asks, the subscription identifier, the
 * requested expiry, when it was made and with which proof. Fields are
 * framed by CBOR (a fixed-order array), never concatenated bare.
 */
import sodium from 'sodium-native';
import { encode } from '../wire/codec.ts';

/** The fields of a request that its signature covers. */
export interface RequestFields {
  kind: 'subscribe' | 'query';
  ns: string;
  pattern: string;
  requester: string;
  id: string;
  expiryMs: number;
  ts: number;
  proofHash: string;
}

const DOMAIN = 'wavemq/request/v1';

/** BLAKE2b-256 digest of a request's signed fields. */
export function requestDigest(r: RequestFields): Uint8Array {
  const body = encode([
    DOMAIN, r.kind, r.ns, r.pattern, r.requester, r.id, r.expiryMs, r.ts,
    r.proofHash,
  ]);
  const out = Buffer.alloc(32);
  sodium.crypto_generichash(out, Buffer.from(body));
  return out;
}
