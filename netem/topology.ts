/**
 * The files of a two-tier trial: one designated router holding a route
 * proof for a fresh namespace, and site routers whose uplink points at it
 * (or at a relay in front of it). Each router gets its own folder under
 * `root` and a config derived from the seed `wavemq.toml` by the same
 * text replacements the end-to-end tests use, so trials run the users'
 * file. Nothing is started here.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Attestation, Entity, Proof } from '../src/wave/index.ts';
import { writeSecretFile } from '../src/common/secret-file.ts';
import { relocatedSeedConfig } from '../harness/seed-config.ts';
import { freePort } from '../harness/processes.ts';
import { makeNamespace, type TestNamespace } from '../harness/grants.ts';

/** Router-link timings written to `[PeerConfig]`, in seconds. */
export interface PeerTimers {
  /** `keepAliveInterval`, s; must be below `idleTimeoutS`. */
  keepAliveS: number;
  /** `idleTimeout`, s: a peer silent this long is taken for gone. */
  idleTimeoutS: number;
}

/** Where one router of a tier lives and listens. */
export interface RouterFiles {
  name: string;
  dir: string;
  configFile: string;
  agentPort: number;
  peerPort: number;
}

/** The files of a designated router and its sites. */
export interface TierFiles {
  root: string;
  ns: TestNamespace;
  dr: RouterFiles;
  sites: RouterFiles[];
}

/** Options of {@link writeTierFiles}. */
export interface TierFileOptions {
  /** Sites to make, each `site<i>` (1-based). */
  siteCount: number;
  /** Router-link timings of every router. */
  peerTimers: PeerTimers;
  /** Resource pattern of the designated router's route proof; default
   *  `*`. */
  drProofResource?: string;
  /**
   * Port on 127.0.0.1 that the sites' uplink points at; default the
   * designated router's peer port. A relay listening there stands
   * between the tiers.
   */
  uplinkPort?: number;
}

/** Expiry of the entities made for a tier, ms (one day). */
const ENTITY_EXPIRY_MS = 24 * 3_600_000;

/**
 * `toml` with `keepAliveInterval` and `idleTimeout` added to its
 * `[PeerConfig]` section, after `listenAddr`.
 * @throws Error when the text has no `[PeerConfig]` with a `listenAddr`.
 */
export function withPeerTimers(toml: string, timers: PeerTimers): string {
  const section = /(\[PeerConfig\]\n(?:.*\n)*?\s*listenAddr = .*\n)/;
  if (!section.test(toml)) {
    throw new Error('config has no [PeerConfig] listenAddr to extend');
  }
  return toml.replace(
    section,
    `$1  keepAliveInterval = ${timers.keepAliveS}\n` +
      `  idleTimeout = ${timers.idleTimeoutS}\n`,
  );
}

/**
 * The designated router's config: the seed file in `dir` without an
 * uplink, with its route proof file listed.
 */
export function designatedConfig(
  dir: string,
  agentPort: number,
  peerPort: number,
  proofFile: string,
): string {
  const seed = relocatedSeedConfig(dir, 1, agentPort, peerPort, {
    metricsAddr: '',
  });
  const withoutUplink = seed.replace(/\[\[RoutingConfig\.Router\]\][^[]*/, '');
  return withoutUplink.replace(
    /(RouterEntityFile = .*\n)/,
    `$1  DesignatedNamespaceFiles = [${JSON.stringify(proofFile)}]\n`,
  );
}

/**
 * Writes the designated router's entity (`router.ent`) and a route proof
 * for `ns` on `resource` (`route.proof`) into `dir`; returns the proof's
 * path.
 */
export async function writeRouteProof(
  dir: string,
  ns: TestNamespace,
  resource: string,
): Promise<string> {
  const drEntity = Entity.create({ expiryMs: ENTITY_EXPIRY_MS });
  await writeSecretFile(join(dir, 'router.ent'), drEntity.encodeSecret());
  const grant = Attestation.create(ns.entity, {
    subject: drEntity.hash,
    namespace: ns.id,
    statements: [{ permissions: ['route'], resource }],
  });
  const proof = Proof.build({
    subject: drEntity.hash,
    namespace: ns.id,
    permissions: ['route'],
    resource,
    attestations: [grant],
  });
  const proofFile = join(dir, 'route.proof');
  await writeFile(proofFile, proof.encodeFile());
  return proofFile;
}

/**
 * Makes a namespace in `root`, the designated router's folder `dr` and
 * `siteCount` site folders, each with its config and free loopback ports.
 */
export async function writeTierFiles(
  root: string,
  o: TierFileOptions,
): Promise<TierFiles> {
  const ns = await makeNamespace(root);
  const drDir = join(root, 'dr');
  await mkdir(drDir);
  const proofFile = await writeRouteProof(drDir, ns, o.drProofResource ?? '*');
  const [drAgent, drPeer] = [await freePort(), await freePort()];
  const drConfig = join(drDir, 'wavemq.toml');
  await writeFile(
    drConfig,
    withPeerTimers(
      designatedConfig(drDir, drAgent, drPeer, proofFile),
      o.peerTimers,
    ),
  );
  const dr = files('dr', drDir, drConfig, drAgent, drPeer);
  const sites: RouterFiles[] = [];
  for (let i = 1; i <= o.siteCount; i++) {
    const dir = join(root, `site${i}`);
    await mkdir(dir);
    const [agentPort, peerPort] = [await freePort(), await freePort()];
    const cfg = join(dir, 'wavemq.toml');
    const seed = relocatedSeedConfig(
      dir,
      o.uplinkPort ?? drPeer,
      agentPort,
      peerPort,
      { namespace: ns.id, metricsAddr: '' },
    );
    await writeFile(cfg, withPeerTimers(seed, o.peerTimers));
    sites.push(files(`site${i}`, dir, cfg, agentPort, peerPort));
  }
  return { root, ns, dr, sites };
}

function files(
  name: string,
  dir: string,
  configFile: string,
  agentPort: number,
  peerPort: number,
): RouterFiles {
  return { name, dir, configFile, agentPort, peerPort };
}
