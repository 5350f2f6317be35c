/**
 * `wavemq entity new`, `inspect`, `attest` and `prove`: making and reading
 * the objects of the security model. Files are written with mode 0600
 * when they hold secrets.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { NamespaceId } from '../common/ids.ts';
import { DurationError, parseDuration } from '../common/duration.ts';
import { writeSecretFile } from '../common/secret-file.ts';
import {
  Attestation,
  Entity,
  Proof,
  inspectObject,
  type Permission,
} from '../wave/index.ts';
import {
  loadEntity,
  readObjectFile,
  readPassphrase,
  resolveHash,
} from './objects.ts';
import { parsePermissions, print } from './output.ts';

/** Registers the security-model commands on `program`. */
export function addWaveCommands(program: Command): void {
  const entity = program.command('entity').description('make entities');
  entity
    .command('new')
    .description('create an entity (key pair) and print its hash')
    .requiredOption('-o, --output <file>', 'where to write the secret file')
    .option('--passphrase-file <file>', 'seal the secret with this passphrase')
    .option('--expiry <duration>', 'validity, e.g. 30d, 1y', '1y')
    .option('--force', 'replace an existing file (its key is lost)')
    .option('--json', 'print JSON')
    .action(entityNew);

  program
    .command('inspect <file>')
    .description('show an entity, attestation or proof file')
    .option('--passphrase-file <file>', 'passphrase of a sealed entity')
    .option('--json', 'print JSON')
    .action(inspect);

  program
    .command('attest')
    .description('grant permissions on a resource to a subject')
    .requiredOption('--attester <file>', 'entity secret file of the granter')
    .requiredOption('--subject <hash|file>', 'who receives the grant')
    .requiredOption('--namespace <hash|file>', 'namespace of the resource')
    .requiredOption(
      '--permissions <list>',
      'comma list of publish,subscribe,query,route',
    )
    .requiredOption('--resource <pattern>', 'resource pattern, e.g. sensors/*')
    .option('--indirections <n>', 'further re-delegations allowed', '0')
    .option('--expiry <duration>', 'validity, e.g. 30d', '30d')
    .option('--passphrase-file <file>', 'passphrase of the attester')
    .requiredOption('-o, --output <file>', 'where to write the attestation')
    .option('--force', 'replace an existing file')
    .option('--json', 'print JSON')
    .action(attest);

  program
    .command('prove')
    .description('build a proof from attestations')
    .argument('<attestation...>', 'attestation files')
    .requiredOption('--subject <hash|file>', 'who the proof is for')
    .requiredOption('--namespace <hash|file>', 'namespace of the resource')
    .requiredOption('--permissions <list>', 'comma list of permissions')
    .requiredOption('--resource <pattern>', 'resource pattern the proof covers')
    .requiredOption('-o, --output <file>', 'where to write the proof')
    .option('--force', 'replace an existing file')
    .option('--json', 'print JSON')
    .action(prove);
}

/** Refuses to replace `file` unless told to: an entity file is a key. */
function checkOutput(file: string, force: boolean | undefined): void {
  if (!force && existsSync(file)) {
    throw new Error(`${file} exists; use --force to replace it`);
  }
}

interface EntityNewOpts {
  force?: boolean;
  output: string;
  passphraseFile?: string;
  expiry: string;
  json?: boolean;
}

async function entityNew(o: EntityNewOpts): Promise<void> {
  checkOutput(o.output, o.force);
  const e = Entity.create({ expiryMs: expiryOption(o.expiry) });
  const passphrase = o.passphraseFile
    ? await readPassphrase(o.passphraseFile)
    : undefined;
  await writeSecretFile(o.output, e.encodeSecret(passphrase));
  print(o.json, { hash: e.hash, file: o.output }, e.hash);
}

async function inspect(
  file: string,
  o: { passphraseFile?: string; json?: boolean },
): Promise<void> {
  const obj = await readObjectFile(
    file,
    await readPassphrase(o.passphraseFile),
  );
  const summary = inspectObject(obj);
  print(o.json, summary, formatSummary(summary));
}

function formatSummary(s: Record<string, unknown>): string {
  return Object.entries(s)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

interface AttestOpts {
  force?: boolean;
  attester: string;
  subject: string;
  namespace: string;
  permissions: string;
  resource: string;
  indirections: string;
  expiry: string;
  passphraseFile?: string;
  output: string;
  json?: boolean;
}

async function attest(o: AttestOpts): Promise<void> {
  checkOutput(o.output, o.force);
  const attester = await loadEntity(
    o.attester,
    await readPassphrase(o.passphraseFile),
  );
  const a = Attestation.create(attester, {
    subject: await resolveHash(o.subject),
    namespace: (await resolveHash(o.namespace)) as string as NamespaceId,
    statements: [
      { permissions: parsePermissions(o.permissions), resource: o.resource },
    ],
    indirections: Number.parseInt(o.indirections, 10),
    expiryMs: expiryOption(o.expiry),
  });
  await writeFile(o.output, a.encodeFile());
  print(o.json, { hash: a.hash, file: o.output }, a.hash);
}

interface ProveOpts {
  force?: boolean;
  subject: string;
  namespace: string;
  permissions: string;
  resource: string;
  output: string;
  json?: boolean;
}

async function prove(files: string[], o: ProveOpts): Promise<void> {
  checkOutput(o.output, o.force);
  const attestations: Attestation[] = [];
  for (const f of files) {
    const obj = await readObjectFile(f);
    if (obj.kind !== 'attestation')
      throw new Error(`${f} holds ${obj.kind}, not an attestation`);
    attestations.push(obj.attestation);
  }
  const permissions: Permission[] = parsePermissions(o.permissions);
  const proof = Proof.build({
    subject: await resolveHash(o.subject),
    namespace: (await resolveHash(o.namespace)) as string as NamespaceId,
    permissions,
    resource: o.resource,
    attestations,
  });
  await writeFile(o.output, proof.encodeFile());
  print(o.json, { hash: proof.hash, file: o.output }, proof.hash);
}

/**
 * The `--expiry` option in ms.
 * @throws DurationError naming the option for a bad or zero duration.
 */
function expiryOption(text: string): number {
  const ms = parseDuration(text);
  if (ms <= 0) {
    throw new DurationError(`--expiry must be above zero, not '${text}'`, {
      input: text,
    });
  }
  return ms;
}
