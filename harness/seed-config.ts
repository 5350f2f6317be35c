/**
 * The config file users already have (the seed `wavemq.toml`), and a copy
 * of it moved onto a test's own directory and ports. The copy is made by
 * targeted text replacements so tests exercise the users' file itself.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository. */
export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The seed files as kept in the repository. */
export const SEED_FIXTURE_DIR = join(REPO_ROOT, 'test/fixtures/seed-config');
/** The shared seed folder beside the repository, when it exists. */
export const SHARED_SEED_DIR = resolve(
  REPO_ROOT,
  '..',
  'shared',
  'seed-config',
);

/** Text of the seed `wavemq.toml`. */
export function seedConfigText(): string {
  return readFileSync(join(SEED_FIXTURE_DIR, 'wavemq.toml'), 'utf8');
}

/** Text of the seed `wavemq.template.toml` (placeholders included). */
export function seedTemplateText(): string {
  return readFileSync(join(SEED_FIXTURE_DIR, 'wavemq.template.toml'), 'utf8');
}

/** Extra changes for {@link relocatedSeedConfig}. */
export interface RelocateOptions {
  /** Replaces the seed's designated-router namespace hash. */
  namespace?: string;
  /**
   * Appends `[MetricsConfig] listenAddr = ...` (use '' to disable), so
   * routers in one test don't all bind 127.0.0.1:6060.
   */
  metricsAddr?: string;
}

/**
 * The seed TOML with every path moved under `dir`, the designated router
 * at 127.0.0.1:`drPort`, agents on 127.0.0.1:`agentPort` and peers on
 * 127.0.0.1:`peerPort`; all other text is kept as is (the seed points
 * queueDataStore and PersistDataStore at one directory, and so does the
 * result). Throws if the seed no longer contains a value it replaces.
 */
export function relocatedSeedConfig(
  dir: string,
  drPort: number,
  agentPort: number,
  peerPort: number,
  options: RelocateOptions = {},
): string {
  const inString = (s: string): string => JSON.stringify(s).slice(1, -1);
  let text = seedConfigText();
  text = replace(text, '"/var/lib/wavemq/', `"${inString(dir)}/`, 3);
  text = replace(text, '"/etc/wavemq/', `"${inString(dir)}/`, 1);
  text = replace(text, '"wavemq.xbos.io:4515"', `"127.0.0.1:${drPort}"`, 1);
  text = replace(text, '"127.0.0.1:4516"', `"127.0.0.1:${agentPort}"`, 1);
  text = replace(text, '"127.0.0.1:4515"', `"127.0.0.1:${peerPort}"`, 1);
  if (options.namespace !== undefined) {
    const seedNs = '"GyAlyQyfJuai4MCyg6Rx9KkxnZZXWyDaIo0EXGY9-WEq6w=="';
    text = replace(text, seedNs, JSON.stringify(options.namespace), 1);
  }
  if (options.metricsAddr !== undefined) {
    const addr = JSON.stringify(options.metricsAddr);
    text += `\n[MetricsConfig]\n  listenAddr = ${addr}\n`;
  }
  return text;
}

function replace(
  text: string,
  from: string,
  to: string,
  count: number,
): string {
  const found = text.split(from).length - 1;
  if (found !== count) {
    throw new Error(`seed config: expected ${count} x ${from}, found ${found}`);
  }
  return text.replaceAll(from, to);
}
