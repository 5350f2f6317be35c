/**
 * Namespaces, agent entities and proofs written to files, for tests that
 * drive the CLI or the SDK against real routers.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../src/common/clock.ts';
import type { NamespaceId } from '../src/common/ids.ts';
import {
  Attestation,
  Entity,
  Proof,
  type Permission,
} from '../src/wave/index.ts';
import { writeSecretFile } from '../src/common/secret-file.ts';

/** A namespace entity and where its secret file is. */
export interface TestNamespace {
  entity: Entity;
  id: NamespaceId;
  file: string;
}

/** Creates a namespace entity in `dir`. */
export async function makeNamespace(
  dir: string,
  name = 'ns',
): Promise<TestNamespace> {
  const entity = Entity.create({ expiryMs: 24 * 3600_000 });
  const file = join(dir, `${name}.ent`);
  await writeSecretFile(file, entity.encodeSecret());
  return { entity, id: entity.hash as string as NamespaceId, file };
}

/** An agent entity with a proof, both in files. */
export interface TestAgent {
  entity: Entity;
  file: string;
  proof: Proof;
  proofFile: string;
  /** The namespace's grant to this agent, and its file. */
  grant: Attestation;
  grantFile: string;
}

/** Options of {@link makeAgent}. */
export interface GrantOptions {
  permissions?: Permission[];
  resource?: string;
  expiryMs?: number;
  /** How long the agent's own entity is valid; default a day. */
  entityExpiryMs?: number;
  clock?: Clock;
}

/** Creates an agent in `dir` granted `permissions` on `resource` by `ns`. */
export async function makeAgent(
  dir: string,
  name: string,
  ns: TestNamespace,
  o: GrantOptions = {},
): Promise<TestAgent> {
  const entity = Entity.create({
    expiryMs: o.entityExpiryMs ?? 24 * 3600_000,
  });
  const file = join(dir, `${name}.ent`);
  await writeSecretFile(file, entity.encodeSecret());
  const permissions = o.permissions ?? ['publish', 'subscribe', 'query'];
  const resource = o.resource ?? '*';
  const grant = Attestation.create(ns.entity, {
    subject: entity.hash,
    namespace: ns.id,
    statements: [{ permissions, resource }],
    expiryMs: o.expiryMs ?? 3600_000,
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const proof = Proof.build({
    subject: entity.hash,
    namespace: ns.id,
    permissions,
    resource,
    attestations: [grant],
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const proofFile = join(dir, `${name}.proof`);
  await writeFile(proofFile, proof.encodeFile());
  const grantFile = join(dir, `${name}.grant`);
  await writeFile(grantFile, grant.encodeFile());
  return { entity, file, proof, proofFile, grant, grantFile };
}
