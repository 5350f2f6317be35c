/**
 * Proofs: a path of attestations from a namespace entity to a subject.
 * A proof is an unsigned list; each attestation on it is signed and
 * carries its attester's entity, so anyone can check it offline. The
 * rules a proof must meet are checked by the Verifier (proof-rules.ts);
 * decoding checks only that every object on it is well formed and signed.
 */
import {
  systemClock,
  type Clock,
  type EntityHash,
  type NamespaceId,
} from '../common/index.ts';
import { encode } from '../wire/index.ts';
import { armor, LABELS } from './armor.ts';
import { Attestation } from './attestation.ts';
import {
  InvalidArgumentError,
  MalformedObjectError,
  MalformedProofError,
  NoProofFoundError,
  ObjectSignatureError,
  InvalidHashError,
  ProofSignatureError,
} from './errors.ts';
import { Fields } from './fields.ts';
import { hashOf, parseHash } from './hash.ts';
import { validatePattern } from './pattern.ts';
import { isPermission, type Permission } from './policy.ts';
import { windowStatus, type ValidityWindow } from './validity.ts';

/** Most attestations on one proof path. */
export const MAX_PROOF_LINKS = 16;

/** Options of {@link Proof.build}. */
export interface BuildOptions {
  subject: EntityHash;
  namespace: NamespaceId;
  /** Every one must be granted on `resource` by every link. */
  permissions: Permission[];
  /** A URI or a pattern. */
  resource: string;
  /** The attestations to search; others than needed are ignored. */
  attestations: Attestation[];
  /** Source of "now" for validity windows; default the system clock. */
  clock?: Clock;
}

/** Whether every object of `a` is inside its validity window at `nowMs`. */
function validNow(a: Attestation, nowMs: number): boolean {
  const objects = [a, a.attesterEntity, a.subjectEntity ?? a];
  return objects.every((w) => windowStatus(w, nowMs) === 'valid');
}

/** Why attestation `a` cannot serve `o` now, in words; undefined if it can. */
function unusableReason(
  a: Attestation,
  o: BuildOptions,
  nowMs: number,
): string | undefined {
  if (a.namespace !== o.namespace) return 'another namespace';
  const named: [string, ValidityWindow][] = [
    ['grant', a],
    ['attester', a.attesterEntity],
    ['subject', a.subjectEntity ?? a],
  ];
  for (const [what, w] of named) {
    const status = windowStatus(w, nowMs);
    if (status === 'expired') {
      return `${what} expired ${new Date(w.notAfterMs).toISOString()}`;
    }
    if (status === 'not-yet-valid') {
      return `${what} valid from ${new Date(w.notBeforeMs).toISOString()}`;
    }
  }
  const missing = o.permissions.filter((p) => !a.grants(p, o.resource));
  if (missing.length > 0) return `no ${missing.join(',')} on ${o.resource}`;
  return undefined;
}

/** Up to three reasons, for an error; `...` when there are more. */
function listReasons(reasons: string[]): string {
  const shown = reasons.slice(0, 3).join('; ');
  return `${shown}${reasons.length > 3 ? '; ...' : ''}`;
}

/** The reasons of up to three unusable attestations, for an error. */
function unusableText(o: BuildOptions, nowMs: number): string {
  const reasons = o.attestations
    .map((a) => unusableReason(a, o, nowMs))
    .filter((r): r is string => r !== undefined);
  return reasons.length === 0 ? '' : `: ${listReasons(reasons)}`;
}

/** Grant `a`'s broken rules in words, at position `i` of `path`. */
function linkProblems(
  path: Attestation[],
  i: number,
  o: BuildOptions,
  nowMs: number,
): string | undefined {
  const a = path[i] as Attestation;
  const after = path.length - 1 - i;
  const why: string[] = [];
  const unusable = unusableReason(a, o, nowMs);
  if (unusable) why.push(unusable);
  if (a.indirections < after) {
    why.push(
      `allows ${a.indirections} further delegations but ${after} follow it`,
    );
  }
  return why.length === 0 ? undefined : `grant ${a.hash}: ${why.join(', ')}`;
}

/**
 * Why no proof was found, for the error: what breaks the shortest path
 * that would link the namespace to the subject if every rule were
 * waived (each grant on it by hash, with the rule it breaks: validity,
 * namespace, permission, indirections), or that there is no such path.
 * Usable grants are tried first, so that a path breaking indirections
 * only is the one explained.
 */
function failureText(
  o: BuildOptions,
  usable: Attestation[],
  nowMs: number,
): string {
  const path =
    searchPath(usable, o.subject, o.namespace, false) ??
    searchPath(o.attestations, o.subject, o.namespace, false);
  const problems = path
    ? path
        .map((_, i) => linkProblems(path, i, o, nowMs))
        .filter((r): r is string => r !== undefined)
    : [];
  if (problems.length > 0) {
    return `: the nearest path breaks a rule: ${listReasons(problems)}`;
  }
  const noPath =
    !path && o.attestations.length > 0
      ? '; no chain of grants leads from the namespace to the entity'
      : '';
  return unusableText(o, nowMs) + noPath;
}

/** A path of attestations from a namespace to a subject. Immutable. */
export class Proof {
  /** BLAKE2b-256 multihash of {@link bytes}. */
  readonly hash: EntityHash;
  /** Earliest notAfterMs of every attestation and entity on the path. */
  readonly expiresAtMs: number;

  private constructor(
    readonly bytes: Uint8Array,
    readonly subject: EntityHash,
    readonly namespace: NamespaceId,
    /** Attestations in order, the first one made by the namespace. */
    readonly path: Attestation[],
  ) {
    this.hash = hashOf(bytes);
    this.expiresAtMs = Math.min(
      ...path.flatMap((a) => [
        a.notAfterMs,
        a.attesterEntity.notAfterMs,
        a.subjectEntity?.notAfterMs ?? Infinity,
      ]),
    );
    Object.freeze(path);
  }

  /**
   * A proof of `path` as given, for the last link's subject in the first
   * link's namespace. Nothing but the length is checked here; the
   * Verifier checks the rules.
   * @throws InvalidArgumentError for an empty or too long path.
   */
  static fromPath(path: Attestation[]): Proof {
    const first = path[0];
    const last = path[path.length - 1];
    if (!first || !last || path.length > MAX_PROOF_LINKS) {
      throw new InvalidArgumentError(
        `a proof path has 1..${MAX_PROOF_LINKS} attestations`,
        { argument: 'path', reason: `${path.length} attestations` },
      );
    }
    const bytes = encode({
      type: 'wavemq-proof',
      v: 1,
      subject: last.subject,
      namespace: first.namespace,
      path: path.map((a) => a.bytes),
    });
    return new Proof(bytes, last.subject, first.namespace, [...path]);
  }

  /**
   * Decodes a proof; every attestation and embedded entity on it must be
   * well formed and correctly signed.
   * @throws MalformedProofError for bad bytes or fields.
   * @throws ProofSignatureError when a signature does not verify.
   */
  static decode(bytes: Uint8Array): Proof {
    try {
      const copy = new Uint8Array(bytes);
      const f = Fields.decode(copy, 'proof');
      f.expectType('wavemq-proof', 1);
      const subject = parseHash(f.str('subject', 200));
      const namespace = parseHash(f.str('namespace', 200)) as string;
      const links = f.list('path', MAX_PROOF_LINKS);
      if (links.length === 0) {
        throw new MalformedProofError('malformed proof: empty path', {
          reason: 'empty path',
        });
      }
      const path = links.map((l, i) => decodeLink(l, i));
      return new Proof(copy, subject, namespace as NamespaceId, path);
    } catch (err) {
      if (
        err instanceof MalformedObjectError ||
        err instanceof InvalidHashError
      ) {
        throw new MalformedProofError(
          err.message,
          { reason: err.message },
          { cause: err },
        );
      }
      throw err;
    }
  }

  /**
   * Finds the shortest path from `namespace` to `subject` whose every
   * link is valid now, in the namespace, grants every permission on
   * `resource`, and allows the delegations after it.
   * @throws NoProofFoundError naming the permissions and resource.
   * @throws InvalidPatternError for a bad resource.
   */
  static build(o: BuildOptions): Proof {
    validatePattern(o.resource);
    if (o.permissions.length === 0 || !o.permissions.every(isPermission)) {
      throw new InvalidArgumentError('permissions must be a non-empty list', {
        argument: 'permissions',
        reason: o.permissions.join(','),
      });
    }
    const nowMs = (o.clock ?? systemClock).now();
    const usable = o.attestations.filter(
      (a) =>
        a.namespace === o.namespace &&
        validNow(a, nowMs) &&
        o.permissions.every((p) => a.grants(p, o.resource)),
    );
    const path = searchPath(usable, o.subject, o.namespace, true);
    if (!path) {
      const perms = o.permissions.join(',');
      throw new NoProofFoundError(
        `no grant of ${perms} on ${o.resource} in namespace ` +
          `${o.namespace} for entity ${o.subject} (${usable.length} of ` +
          `${o.attestations.length} attestations usable` +
          `${failureText(o, usable, nowMs)})`,
        {
          subject: o.subject,
          namespace: o.namespace,
          permissions: [...o.permissions],
          resource: o.resource,
        },
      );
    }
    return Proof.fromPath(path);
  }

  /** The proof as an armored `WAVEMQ PROOF` file. */
  encodeFile(): string {
    return armor(LABELS.proof, this.bytes);
  }
}

function decodeLink(link: unknown, i: number): Attestation {
  if (!(link instanceof Uint8Array)) {
    throw new MalformedProofError(`malformed proof: link ${i} is not bytes`, {
      reason: `link ${i} is not bytes`,
    });
  }
  try {
    return Attestation.decode(link);
  } catch (err) {
    if (err instanceof ObjectSignatureError) {
      throw new ProofSignatureError(
        `proof link ${i}: ${err.message}`,
        { reason: err.data.reason },
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Breadth-first search back from the subject: the first time an entity
 * is reached it is at its least distance from the subject, which is the
 * easiest for indirections, so one visit per entity suffices. A link with
 * d links after it needs indirections >= d, unless `checkIndirections`
 * is false (to explain a failure).
 */
function searchPath(
  usable: Attestation[],
  subject: EntityHash,
  namespace: NamespaceId,
  checkIndirections: boolean,
): Attestation[] | undefined {
  const bySubject = new Map<string, Attestation[]>();
  for (const a of [...usable].sort((x, y) => y.notAfterMs - x.notAfterMs)) {
    bySubject.set(a.subject, [...(bySubject.get(a.subject) ?? []), a]);
  }
  const toward = new Map<string, Attestation>(); // attester -> its link
  const seen = new Set<string>([subject]);
  let frontier: string[] = [subject];
  for (let d = 0; d < MAX_PROOF_LINKS && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const x of frontier) {
      for (const a of bySubject.get(x) ?? []) {
        if (checkIndirections && a.indirections < d) continue;
        if ((a.attester as string) === namespace)
          return walk(a, subject, toward);
        if (seen.has(a.attester)) continue;
        seen.add(a.attester);
        toward.set(a.attester, a);
        next.push(a.attester);
      }
    }
    frontier = next;
  }
  return undefined;
}

function walk(
  first: Attestation,
  subject: EntityHash,
  toward: Map<string, Attestation>,
): Attestation[] {
  const path = [first];
  let at: string = first.subject;
  while (at !== subject) {
    const link = toward.get(at);
    if (!link) break;
    path.push(link);
    at = link.subject;
  }
  return path;
}
