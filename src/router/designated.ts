/**
 * The designated-router role: for each namespace named by a route proof
 * in `RoutingConfig.DesignatedNamespaceFiles`, accept trunks from site
 * routers on the peer port. At start every proof must be valid now, name
 * this router's entity as its subject, and grant `route` on `*`.
 */
import { readFile } from 'node:fs/promises';
import type { NamespaceId } from '../common/ids.ts';
import { errorMessage } from '../common/errors.ts';
import { Proof, readObject, type Verifier } from '../wave/index.ts';
import { RouteProofError } from './errors.ts';

/** Route proofs by namespace, checked against this router's entity. */
export type RouteProofs = Map<string, Proof>;

/**
 * Loads and checks the route proofs in `files` for router entity `self`.
 * @throws RouteProofError naming the file and what is wrong.
 */
export async function loadRouteProofs(
  files: string[],
  self: string,
  verifier: Verifier,
): Promise<RouteProofs> {
  const out: RouteProofs = new Map();
  for (const file of files) {
    const proof = await readRouteProof(file);
    if (proof.subject !== self) {
      throw new RouteProofError(
        `${file}: the route proof is for entity ${proof.subject}, ` +
          `not this router (${self})`,
        { file },
      );
    }
    await checkRouteProof(proof, proof.namespace, self, verifier, file);
    out.set(proof.namespace, proof);
  }
  return out;
}

async function readRouteProof(file: string): Promise<Proof> {
  let obj;
  try {
    obj = readObject(await readFile(file, 'utf8'));
  } catch (err) {
    throw new RouteProofError(`${file}: ${errorMessage(err)}`, { file });
  }
  if (obj.kind !== 'proof') {
    throw new RouteProofError(`${file}: holds ${obj.kind}, not a proof`, {
      file,
    });
  }
  return obj.proof;
}

/**
 * Checks that `proof` lets `subject` route for `ns` (permission `route`
 * on `*`), now. Resolves with when it stops doing so.
 * @throws RouteProofError saying why not, prefixed by `where`.
 */
export async function checkRouteProof(
  proof: Proof,
  ns: string,
  subject: string,
  verifier: Verifier,
  where: string,
): Promise<number> {
  try {
    const { expiresAtMs } = await verifier.verify(proof, {
      subject: proof.subject,
      namespace: ns as NamespaceId,
      permission: 'route',
      resource: '*',
    });
    if (proof.subject !== subject) {
      throw new Error(`it is for ${proof.subject}, not ${subject}`);
    }
    return expiresAtMs;
  } catch (err) {
    throw new RouteProofError(
      `${where}: route proof for namespace ${ns} refused: ${errorMessage(err)}`,
      { file: where },
      { cause: err },
    );
  }
}
