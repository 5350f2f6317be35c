/** Shared makers for wave/ tests: entities, grants, proofs at a clock. */
import { ManualClock } from '../../src/common/clock.ts';
import type { EntityHash, NamespaceId } from '../../src/common/ids.ts';
import {
  Attestation,
  Entity,
  type Permission,
  type PublicEntity,
} from '../../src/wave/index.ts';

export const HOUR_MS = 3600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A clock and entities valid for a day around its start. */
export function world(): {
  clock: ManualClock;
  ns: Entity;
  nsId: NamespaceId;
  entity: (o?: { expiryMs?: number; notBeforeMs?: number }) => Entity;
} {
  const clock = new ManualClock();
  const entity = (o: { expiryMs?: number; notBeforeMs?: number } = {}) =>
    Entity.create({ clock, expiryMs: DAY_MS, ...o });
  const ns = entity();
  return { clock, ns, nsId: ns.hash as string as NamespaceId, entity };
}

/** Options of {@link grant}. */
export interface GrantOpts {
  namespace: NamespaceId;
  clock: ManualClock;
  permissions?: Permission[];
  resource?: string;
  indirections?: number;
  expiryMs?: number;
  notBeforeMs?: number;
}

/** `from` grants `to` (default: publish and subscribe on `*`). */
export function grant(
  from: Entity,
  to: Entity | PublicEntity | EntityHash,
  o: GrantOpts,
): Attestation {
  const subject = to instanceof Entity ? to.publicEntity : to;
  return Attestation.create(from, {
    subject,
    namespace: o.namespace,
    clock: o.clock,
    statements: [
      {
        permissions: o.permissions ?? ['publish', 'subscribe'],
        resource: o.resource ?? '*',
      },
    ],
    expiryMs: o.expiryMs ?? HOUR_MS,
    ...(o.indirections === undefined ? {} : { indirections: o.indirections }),
    ...(o.notBeforeMs === undefined ? {} : { notBeforeMs: o.notBeforeMs }),
  });
}

/** `bytes` with the byte at `at` XORed with `mask`. */
export function flip(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at] = (out[at] ?? 0) ^ mask;
  return out;
}
