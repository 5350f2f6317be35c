import type { Leaf, Section } from './schema.ts';
import { isTable, type Problem } from './problems.ts';

/** A config file's tables with every key in its canonical spelling. */
export type CanonicalTables = Record<string, Record<string, unknown>>;

/**
 * Renames the keys of a parsed TOML document to the spelling of the
 * schema, matching case-insensitively as the original's TOML decoder did
 * (`QUEUEEXPIRY` is `queueExpiry`, `[queueconfig]` is `[QueueConfig]`).
 * Two spellings of one section are one section: their keys are merged.
 * Names of storage providers are kept as written. Records a problem for
 * an unknown key, a key set twice in different case, and a section or
 * entry that is not a table; such keys are left out of the result.
 *
 * This walk is also the strict check for undeclared keys: convict's own
 * strict mode compares names exactly, so it cannot run on user spelling.
 */
export function canonicalTables(
  doc: Record<string, unknown>,
  schema: Record<string, Section>,
  problems: Problem[],
): CanonicalTables {
  const out: CanonicalTables = {};
  const known = Object.keys(schema);
  for (const [name, written, value] of matchNames(doc, known, '', problems)) {
    const section = schema[name];
    if (section === undefined) continue;
    if (!isTable(value)) {
      problems.push({ key: written, message: `expected a table [${name}]` });
      continue;
    }
    out[name] ??= {};
    canonicalSection(value, section, name, out[name], problems);
  }
  return out;
}

// Adds the keys of `table`, canonicalised, to `out`.
function canonicalSection(
  table: Record<string, unknown>,
  section: Section,
  path: string,
  out: Record<string, unknown>,
  problems: Problem[],
): void {
  const known = Object.keys(section);
  for (const [name, written, value] of matchNames(
    table,
    known,
    path,
    problems,
  )) {
    const leaf = section[name];
    if (leaf === undefined) continue;
    const key = `${path}.${name}`;
    const kept = leaf.entries ? entries(value, leaf, key, problems) : value;
    if (kept === undefined) continue;
    if (Object.hasOwn(out, name)) {
      problems.push({
        key: `${path}.${written}`,
        message: `set twice (names ignore case, so this is ${key})`,
      });
      continue;
    }
    out[name] = kept;
  }
}

// Canonicalises the entries of a table of tables or an array of tables;
// undefined when the value has the wrong shape (a problem is recorded).
function entries(
  value: unknown,
  leaf: Leaf,
  key: string,
  problems: Problem[],
): unknown {
  const { kind, section } = leaf.entries ?? { kind: 'map', section: {} };
  const bad = (at: string, what: string): undefined => {
    problems.push({ key: at, message: `expected ${what}` });
    return undefined;
  };
  if (kind === 'list') {
    const element = `a table [[${key}]]`;
    if (!Array.isArray(value)) return bad(key, `an array of tables [[${key}]]`);
    return value.map((v: unknown, i) =>
      isTable(v)
        ? entry(v, section, `${key}[${i}]`, problems)
        : bad(`${key}[${i}]`, element),
    );
  }
  if (!isTable(value)) return bad(key, `tables [${key}.<name>]`);
  const out: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(value)) {
    const at = `${key}.${name}`;
    out[name] = isTable(v)
      ? entry(v, section, at, problems)
      : bad(at, `a table [${at}]`);
  }
  return out;
}

function entry(
  table: Record<string, unknown>,
  section: Section,
  path: string,
  problems: Problem[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  canonicalSection(table, section, path, out, problems);
  return out;
}

// Pairs each key of `table` with its canonical name (and the name as
// written); records unknown names.
function matchNames(
  table: Record<string, unknown>,
  known: string[],
  path: string,
  problems: Problem[],
): [name: string, written: string, value: unknown][] {
  const index = new Map(known.map((k) => [k.toLowerCase(), k]));
  const out: [string, string, unknown][] = [];
  for (const [written, value] of Object.entries(table)) {
    const name = index.get(written.toLowerCase());
    if (name !== undefined) {
      out.push([name, written, value]);
      continue;
    }
    const names = known.join(', ');
    let message = `unknown key; expected one of ${names}`;
    if (path === '') {
      message = isTable(value)
        ? `unknown section; expected one of ${names}`
        : `key outside any section; keys go in the sections ${names}`;
    }
    problems.push({
      key: path === '' ? written : `${path}.${written}`,
      message,
    });
  }
  return out;
}
