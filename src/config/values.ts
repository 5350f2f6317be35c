import convict from 'convict';
import { CONFIG_SCHEMA, type Leaf, type Section } from './schema.ts';
import type { CanonicalTables } from './keys.ts';
import { describeMismatch, isTable, type Problem } from './problems.ts';

/** Environment variables as read by the loader. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Fills in defaults and environment overrides (through convict) and
 * checks every value, entries of tables of tables and arrays of tables
 * included. Returns the values by canonical section and key; they are
 * only trustworthy when no problem was recorded.
 */
export function loadValues(
  tables: CanonicalTables,
  env: Env,
  problems: Problem[],
): Record<string, Record<string, unknown>> {
  const { storage, ...wave } = tables['WaveConfig'] ?? {};
  const cfg = convict(CONFIG_SCHEMA, { env, args: [] });
  cfg.load({ ...tables, WaveConfig: wave });
  // A `[WaveConfig.storage]` table replaces the built-in one as a whole.
  // Loading it would merge provider by provider (and convict's schema
  // cannot describe a provider named `default`), so it is set as a leaf.
  if (storage !== undefined) cfg.set('WaveConfig.storage', storage);
  const props = cfg.getProperties() as Record<string, Record<string, unknown>>;
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, section] of Object.entries(CONFIG_SCHEMA)) {
    const values = props[name] ?? {};
    out[name] = checkSection(section, values, name, env, problems);
  }
  return out;
}

function checkSection(
  section: Section,
  values: Record<string, unknown>,
  path: string,
  env: Env,
  problems: Problem[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, leaf] of Object.entries(section)) {
    const key = `${path}.${name}`;
    out[name] = checkLeaf(leaf, values[name], key, env, problems);
  }
  return out;
}

function checkLeaf(
  leaf: Leaf,
  value: unknown,
  key: string,
  env: Env,
  problems: Problem[],
): unknown {
  const expected = leaf.check(value);
  if (expected !== undefined) {
    const from = leaf.env !== undefined && env[leaf.env] !== undefined;
    const message = describeMismatch(expected, value);
    problems.push({
      key,
      message: from ? `${message} (set by ${leaf.env})` : message,
    });
    return value;
  }
  if (leaf.each && Array.isArray(value)) {
    value.forEach((v: unknown, i) => {
      const problem = leaf.each?.(v);
      if (problem !== undefined) {
        problems.push({
          key: `${key}[${i}]`,
          message: describeMismatch(problem, v),
        });
      }
    });
  }
  return leaf.entries
    ? loadEntries(leaf.entries, value, key, env, problems)
    : value;
}

// Each entry of a table of tables or an array of tables is its own small
// convict configuration, so it gets defaults the same way sections do.
function loadEntries(
  entries: NonNullable<Leaf['entries']>,
  value: unknown,
  key: string,
  env: Env,
  problems: Problem[],
): unknown {
  const one = (entry: unknown, at: string): Record<string, unknown> => {
    const cfg = convict(entries.section, { env: {}, args: [] });
    if (isTable(entry)) cfg.load(entry);
    const props = cfg.getProperties() as Record<string, unknown>;
    return checkSection(entries.section, props, at, env, problems);
  };
  if (Array.isArray(value)) {
    return value.map((v: unknown, i) => one(v, `${key}[${i}]`));
  }
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    out[name] = one(v, `${key}.${name}`);
  }
  return out;
}
