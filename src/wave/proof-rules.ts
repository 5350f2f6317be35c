/**
 * The rules a proof must meet to grant a request, checked in a fixed
 * order so the error names the first broken rule:
 * 1. the proof and every link are in the requested namespace;
 * 2. the path starts at the namespace entity;
 * 3. each link's subject is the next link's attester;
 * 4. the path ends at the requesting subject (and the requester's entity,
 *    when given, is that subject);
 * 5. every attestation and embedded entity, and the requester's entity
 *    when given, is inside its validity window;
 * 6. a link with d links after it has indirections >= d;
 * 7. every link grants the permission on a resource covering the request.
 * Signatures were checked when the attestations were decoded or made;
 * revocation is checked by the Verifier (it needs storage).
 */
import type { EntityHash, NamespaceId } from '../common/index.ts';
import type { Attestation } from './attestation.ts';
import type { PublicEntity } from './entity.ts';
import {
  PermissionDeniedError,
  ProofChainError,
  ProofExpiredError,
  ProofIndirectionError,
  ProofNamespaceError,
  ProofNotYetValidError,
  ProofSubjectError,
} from './errors.ts';
import type { Permission } from './policy.ts';
import type { Proof } from './proof.ts';
import { windowStatus } from './validity.ts';

/** What is asked: `permission` on `resource` in `namespace`. */
export interface AccessRequest {
  subject: EntityHash;
  namespace: NamespaceId;
  permission: Permission;
  /** A URI or a pattern (subscribe and query may use patterns). */
  resource: string;
  /**
   * The requester's public entity, when the caller has it (a router
   * checking a signed message or request). Its validity window and its
   * revocation are then checked too, even when no link embeds it.
   */
  subjectEntity?: PublicEntity;
}

/** An object on a proof whose validity and revocation matter. */
export interface PathObject {
  index: number;
  kind: 'attestation' | 'entity';
  hash: string;
  notBeforeMs: number;
  notAfterMs: number;
  revocationCommitment: Uint8Array;
}

/** Every attestation and distinct embedded entity on the path. */
export function pathObjects(path: readonly Attestation[]): PathObject[] {
  const out: PathObject[] = [];
  const seen = new Set<string>();
  const entity = (index: number, e: PublicEntity | undefined): void => {
    if (!e || seen.has(e.hash)) return;
    seen.add(e.hash);
    out.push({ index, kind: 'entity', ...windowOf(e), hash: e.hash });
  };
  path.forEach((a, index) => {
    entity(index, a.attesterEntity);
    out.push({ index, kind: 'attestation', ...windowOf(a), hash: a.hash });
    entity(index, a.subjectEntity);
  });
  return out;
}

/**
 * The objects whose validity and revocation a request depends on: those
 * of the path, and the requester's entity when given and not on the path
 * already (counted as part of the last link).
 */
export function requestObjects(proof: Proof, req: AccessRequest): PathObject[] {
  const out = pathObjects(proof.path);
  const e = req.subjectEntity;
  if (e && !out.some((o) => o.kind === 'entity' && o.hash === e.hash)) {
    const index = Math.max(0, proof.path.length - 1);
    out.push({ index, kind: 'entity', ...windowOf(e), hash: e.hash });
  }
  return out;
}

function windowOf(
  o: Attestation | PublicEntity,
): Omit<PathObject, 'index' | 'kind' | 'hash'> {
  return {
    notBeforeMs: o.notBeforeMs,
    notAfterMs: o.notAfterMs,
    revocationCommitment: o.revocationCommitment,
  };
}

function checkNamespace(proof: Proof, req: AccessRequest): void {
  const ns = req.namespace;
  const wrong = (index: number, actual: string, what: string): never => {
    throw new ProofNamespaceError(
      `${what} ${actual}, not the requested namespace ${ns}`,
      { index, expected: ns, actual },
    );
  };
  if (proof.namespace !== ns) wrong(-1, proof.namespace, 'proof is for');
  proof.path.forEach((a, i) => {
    if (a.namespace !== ns) wrong(i, a.namespace, `link ${i} is in`);
  });
  const first = proof.path[0];
  if (first && (first.attester as string) !== ns) {
    wrong(0, first.attester, 'path starts at entity');
  }
}

function checkChain(proof: Proof, req: AccessRequest): void {
  const path = proof.path;
  for (let i = 0; i + 1 < path.length; i++) {
    const a = path[i] as Attestation;
    const b = path[i + 1] as Attestation;
    if (a.subject !== b.attester) {
      throw new ProofChainError(
        `broken proof chain: link ${i} is granted to ${a.subject} but ` +
          `link ${i + 1} is made by ${b.attester}`,
        { index: i, subject: a.subject, nextAttester: b.attester },
      );
    }
  }
  const end = path[path.length - 1]?.subject ?? proof.subject;
  const given = req.subjectEntity?.hash;
  for (const actual of [end, proof.subject, ...(given ? [given] : [])]) {
    if (actual !== req.subject) {
      throw new ProofSubjectError(
        `proof is for entity ${actual}, not for ${req.subject}`,
        { expected: req.subject, actual },
      );
    }
  }
}

function checkWindows(proof: Proof, req: AccessRequest, nowMs: number): void {
  for (const o of requestObjects(proof, req)) {
    const status = windowStatus(o, nowMs);
    const where = { index: o.index, kind: o.kind, hash: o.hash, nowMs };
    if (status === 'expired') {
      throw new ProofExpiredError(
        `${o.kind} ${o.hash} on proof link ${o.index} expired at ` +
          new Date(o.notAfterMs).toISOString(),
        { ...where, notAfterMs: o.notAfterMs },
      );
    }
    if (status === 'not-yet-valid') {
      throw new ProofNotYetValidError(
        `${o.kind} ${o.hash} on proof link ${o.index} is not valid before ` +
          new Date(o.notBeforeMs).toISOString(),
        { ...where, notBeforeMs: o.notBeforeMs },
      );
    }
  }
}

function checkIndirections(proof: Proof): void {
  proof.path.forEach((a, i) => {
    const required = proof.path.length - 1 - i;
    if (a.indirections < required) {
      throw new ProofIndirectionError(
        `link ${i} by ${a.attester} allows ${a.indirections} further ` +
          `delegations; the proof makes ${required}`,
        { index: i, indirections: a.indirections, required },
      );
    }
  });
}

function checkGrants(proof: Proof, req: AccessRequest): void {
  proof.path.forEach((a, i) => {
    if (!a.grants(req.permission, req.resource)) {
      throw new PermissionDeniedError(
        `no grant of ${req.permission} on ${req.resource} in namespace ` +
          `${req.namespace} for entity ${req.subject}: link ${i} ` +
          `(${a.attester} to ${a.subject}) does not grant it`,
        {
          permission: req.permission,
          resource: req.resource,
          namespace: req.namespace,
          subject: req.subject,
          index: i,
        },
      );
    }
  });
}

/**
 * Checks rules 1-7 above for `req` at `nowMs`; throws the ProofError leaf
 * of the first rule broken. `req.resource` must be a valid pattern.
 */
export function checkProofRules(
  proof: Proof,
  req: AccessRequest,
  nowMs: number,
): void {
  checkNamespace(proof, req);
  checkChain(proof, req);
  checkWindows(proof, req, nowMs);
  checkIndirections(proof);
  checkGrants(proof, req);
}
