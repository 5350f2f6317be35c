/** Printing for the CLI: JSON when asked, text otherwise. */
import type { Permission } from '../wave/index.ts';

const PERMISSIONS: readonly Permission[] = [
  'publish',
  'subscribe',
  'query',
  'route',
];

/** Prints `data` as one JSON line with `json`, else `text`. */
export function print(
  json: boolean | undefined,
  data: unknown,
  text: string,
): void {
  console.log(json ? JSON.stringify(data) : text);
}

/** Reads `publish,subscribe`; throws naming an unknown permission. */
export function parsePermissions(list: string): Permission[] {
  const out: Permission[] = [];
  for (const raw of list.split(',')) {
    const p = raw.trim();
    if (!(PERMISSIONS as readonly string[]).includes(p)) {
      throw new Error(
        `unknown permission '${p}': use ${PERMISSIONS.join(', ')}`,
      );
    }
    out.push(p as Permission);
  }
  return out;
}
