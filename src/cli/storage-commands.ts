/**
 * `wavemq storage serve`, `wavemq storage get` and `wavemq revoke`: running
 * a storage server, looking an object up, and revoking an entity or a
 * grant by publishing its revocation secret.
 */
import type { Command } from 'commander';
import { createLogger } from '../common/logger.ts';
import { parseHostPort, type HostPort } from '../config/index.ts';
import { serveMetrics } from '../router/index.ts';
import {
  DEFAULT_STORAGE_PORT,
  StorageServer,
  storageUrl,
} from '../storage/index.ts';
import {
  HttpStorageProvider,
  parseHash,
  revocationCommitment,
  revoke,
  toBase64Url,
} from '../wave/index.ts';
import { loadEntity, readObjectFile, readPassphrase } from './objects.ts';
import { print } from './output.ts';
import { stopSignal } from './run.ts';

const DEFAULT_LISTEN = `127.0.0.1:${DEFAULT_STORAGE_PORT}`;

/** Registers the storage commands and `revoke` on `program`. */
export function addStorageCommands(program: Command): void {
  const storage = program
    .command('storage')
    .description('run a storage server, or look an object up in one');
  storage
    .command('serve')
    .description('serve objects and revocations over HTTP until interrupted')
    .requiredOption('--data <dir>', 'folder of its database')
    .option(
      '--listen <host:port>',
      'address to serve on (port 0 picks a free one)',
      DEFAULT_LISTEN,
    )
    .option('--metrics <host:port>', 'serve Prometheus metrics there')
    .action(serve);
  storage
    .command('get <hash>')
    .description('say whether a storage server holds the object <hash>')
    .requiredOption('--storage <url>', 'base URL, e.g. http://host:4520/v1')
    .option('--json', 'print JSON')
    .action(get);
  program
    .command('revoke')
    .description(
      'revoke an entity or a grant by publishing its revocation secret',
    )
    .requiredOption('--storage <url>', 'base URL, e.g. http://host:4520/v1')
    .option('--entity <file>', 'entity secret file to revoke')
    .option('--grant <file>', 'attestation (grant) file to revoke')
    .option('--attester <file>', 'entity secret file of who made the grant')
    .option('--passphrase-file <file>', 'passphrase of the entity secret file')
    .option('--json', 'print JSON')
    .action(revokeCommand);
}

interface ServeOpts {
  data: string;
  listen: string;
  metrics?: string;
}

async function serve(o: ServeOpts): Promise<void> {
  const listen = listenAddress(o.listen);
  const metricsAddr = o.metrics ? address('--metrics', o.metrics) : undefined;
  const logger = createLogger();
  const stopped = stopSignal(logger);
  const server = new StorageServer({ dataDir: o.data, ...listen, logger });
  const bound = await server.start();
  const metrics = metricsAddr
    ? await serveMetrics(server.registry, metricsAddr, logger)
    : undefined;
  console.log(storageUrl(bound));
  await stopped;
  await metrics?.close();
  await server.stop();
}

/** `host:port` of `--listen`, where port 0 asks for a free port. */
function listenAddress(text: string): HostPort {
  const any = /^(.*):0$/.exec(text);
  if (!any) return address('--listen', text);
  return { ...address('--listen', `${any[1]}:1`), port: 0 };
}

function address(option: string, text: string): HostPort {
  try {
    return parseHostPort(text);
  } catch (err) {
    throw named(option, err);
  }
}

/** Prefixes an error's message with the option it is about. */
function named(option: string, err: unknown): unknown {
  if (err instanceof Error) err.message = `${option}: ${err.message}`;
  return err;
}

function provider(url: string): HttpStorageProvider {
  try {
    return new HttpStorageProvider({ name: 'cli', url });
  } catch (err) {
    throw named('--storage', err);
  }
}

async function get(
  hashArg: string,
  o: { storage: string; json?: boolean },
): Promise<void> {
  const storage = provider(o.storage);
  const hash = parseHash(hashArg);
  const bytes = await storage.get(hash);
  const text = bytes
    ? `${hash}: stored, ${bytes.length} bytes`
    : `${hash}: not stored`;
  print(
    o.json,
    { hash, stored: bytes !== undefined, bytes: bytes?.length ?? 0 },
    text,
  );
}

interface RevokeOpts {
  storage: string;
  entity?: string;
  grant?: string;
  attester?: string;
  passphraseFile?: string;
  json?: boolean;
}

/** What a revocation is about, and the secret that revokes it. */
interface Target {
  kind: 'entity' | 'attestation';
  hash: string;
  secret: Uint8Array;
}

async function revokeCommand(o: RevokeOpts): Promise<void> {
  const storage = provider(o.storage);
  const target = await revocationTarget(o);
  const stored = await revoke(storage, target.secret);
  const commitment = toBase64Url(revocationCommitment(target.secret));
  const text = [
    `revoked ${target.kind} ${target.hash}`,
    `commitment ${commitment}`,
    `stored as ${stored} at ${storage.url}`,
  ].join('\n');
  print(
    o.json,
    {
      kind: target.kind,
      hash: target.hash,
      commitment,
      object: stored,
      storage: storage.url,
    },
    text,
  );
}

/** Reads the files named by the options; errors name the option. */
async function revocationTarget(o: RevokeOpts): Promise<Target> {
  if (o.entity && o.grant) {
    throw new Error('give --entity or --grant, not both');
  }
  const passphrase = await readPassphrase(o.passphraseFile);
  if (o.entity) {
    if (o.attester) throw new Error('--attester goes with --grant only');
    const e = await loadEntity(o.entity, passphrase);
    return { kind: 'entity', hash: e.hash, secret: e.revocationSecret };
  }
  if (!o.grant) {
    throw new Error(
      'say what to revoke: --entity FILE, or --grant FILE --attester FILE',
    );
  }
  if (!o.attester) {
    throw new Error(
      `--grant ${o.grant} needs --attester: the entity secret file of ` +
        'who made the grant',
    );
  }
  const obj = await readObjectFile(o.grant);
  if (obj.kind !== 'attestation') {
    throw new Error(`--grant ${o.grant} holds ${obj.kind}, not a grant`);
  }
  const a = obj.attestation;
  const attester = await loadEntity(o.attester, passphrase);
  if (attester.hash !== a.attester) {
    throw new Error(
      `--attester ${o.attester} is entity ${attester.hash}, but the grant ` +
        `in ${o.grant} was made by ${a.attester}`,
    );
  }
  const secret = a.revocationSecret(attester);
  // A grant made by other software may commit to another secret; storing
  // ours would then revoke nothing.
  const commitment = toBase64Url(revocationCommitment(secret));
  if (commitment !== toBase64Url(a.revocationCommitment)) {
    throw new Error(
      `the grant in ${o.grant} does not commit to the secret derived ` +
        `from --attester ${o.attester}; it cannot be revoked this way`,
    );
  }
  return { kind: 'attestation', hash: a.hash, secret };
}
