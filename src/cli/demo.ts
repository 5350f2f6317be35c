/**
 * `wavemq demo`: a site router on an embedded default config, with data
 * under a local folder, a fresh namespace, and an agent entity granted
 * publish, subscribe and query on everything in it. Prints the commands
 * to run next. Files already there are reused, so a restart keeps state.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamespaceId } from '../common/ids.ts';
import { createLogger } from '../common/logger.ts';
import { writeSecretFile } from '../common/secret-file.ts';
import { InvalidAddressError, defaultConfig } from '../config/index.ts';
import { Attestation, Entity, Proof } from '../wave/index.ts';
import { runRouter } from './run.ts';

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The demo's agent port when none is given: the config's default. */
export const DEMO_PORT = 4516;

/**
 * The `--port` option: an integer 1..65535.
 * @throws InvalidAddressError naming the option and the text.
 */
export function demoPort(text: string): number {
  const port = Number(text);
  if (!/^\d{1,5}$/.test(text) || port < 1 || port > 65535) {
    const reason = 'the port must be an integer 1..65535';
    throw new InvalidAddressError(`--port ${JSON.stringify(text)}: ${reason}`, {
      address: text,
      reason,
    });
  }
  return port;
}

/** How to call this command from the current folder. */
function selfCommand(): string {
  const bin = fileURLToPath(new URL('../../bin/wavemq.js', import.meta.url));
  const rel = relative(process.cwd(), bin);
  return rel.startsWith('..') ? bin : `./${rel}`;
}

async function ensureEntity(file: string): Promise<Entity> {
  if (existsSync(file))
    return Entity.decodeSecret(await readFile(file, 'utf8'));
  const e = Entity.create({ expiryMs: YEAR_MS });
  await writeSecretFile(file, e.encodeSecret());
  return e;
}

async function ensureProof(
  dir: string,
  ns: Entity,
  agent: Entity,
): Promise<string> {
  const file = join(dir, 'agent.proof');
  if (existsSync(file)) return file;
  const grant = Attestation.create(ns, {
    subject: agent.hash,
    namespace: ns.hash as string as NamespaceId,
    statements: [
      { permissions: ['publish', 'subscribe', 'query'], resource: '*' },
    ],
    expiryMs: YEAR_MS,
  });
  await writeFile(join(dir, 'agent.grant'), grant.encodeFile());
  const proof = Proof.build({
    subject: agent.hash,
    namespace: ns.hash as string as NamespaceId,
    permissions: ['publish', 'subscribe', 'query'],
    resource: '*',
    attestations: [grant],
  });
  await writeFile(file, proof.encodeFile());
  return file;
}

/** Runs the demo router in `dir` until interrupted. */
export async function runDemo(dirArg: string, port = DEMO_PORT): Promise<void> {
  const dir = resolve(dirArg);
  await mkdir(dir, { recursive: true });
  const config = defaultConfig(join(dir, 'data'));
  config.local.listenAddr.port = port;
  const ns = await ensureEntity(join(dir, 'namespace.ent'));
  const agent = await ensureEntity(join(dir, 'agent.ent'));
  const proof = await ensureProof(dir, ns, agent);
  const addr = `${config.local.listenAddr.host}:${config.local.listenAddr.port}`;
  const common =
    `--router ${addr} --entity ${join(dir, 'agent.ent')} --proof ${proof} ` +
    `--namespace ${ns.hash}`;
  const logger = createLogger({ level: 'warn' });
  await runRouter(config, logger, () => {
    process.stdout.write(
      [
        `wavemq site router listening on ${addr} (data in ${dir})`,
        `namespace ${ns.hash}`,
        '',
        'In another terminal, subscribe:',
        `  ${selfCommand()} sub 'demo/*' ${common}`,
        'and publish:',
        `  ${selfCommand()} pub demo/hello 'hello world' ${common}`,
        '',
        'Stop the router with Ctrl-C.',
        '',
      ].join('\n'),
    );
  });
}
