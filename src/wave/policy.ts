/**
 * Permissions and statements: what an attestation grants. A link grants a
 * request when one of its statements lists the permission and its resource
 * pattern covers the requested resource. Grants are not combined across
 * statements (so `a` plus `a/+/*` does not grant `a/*`): a conservative
 * rule, never granting more than intended.
 */
import { InvalidArgumentError } from './errors.ts';
import { covers, isValidPattern } from './pattern.ts';

/** What can be granted on a resource. */
export type Permission = 'publish' | 'subscribe' | 'query' | 'route';

/** Every permission, in a fixed order. */
export const PERMISSIONS: readonly Permission[] = Object.freeze([
  'publish',
  'subscribe',
  'query',
  'route',
]);

/** One grant: these permissions on every URI the resource matches. */
export interface Statement {
  permissions: Permission[];
  resource: string;
}

/** Most statements in one attestation. */
export const MAX_STATEMENTS = 16;

/** Whether `p` names a permission. */
export function isPermission(p: unknown): p is Permission {
  return typeof p === 'string' && (PERMISSIONS as string[]).includes(p);
}

/** Why `s` is not a valid statement list, or undefined. */
export function statementsProblem(s: unknown): string | undefined {
  if (!Array.isArray(s) || s.length === 0 || s.length > MAX_STATEMENTS) {
    return `statements must be a list of 1..${MAX_STATEMENTS}`;
  }
  for (const [i, st] of s.entries()) {
    const o = st as Partial<Record<string, unknown>> | null;
    const perms = o?.['permissions'];
    const resource = o?.['resource'];
    if (!Array.isArray(perms) || perms.length === 0) {
      return `statement ${i}: permissions must be a non-empty list`;
    }
    if (!perms.every(isPermission) || new Set(perms).size !== perms.length) {
      return (
        `statement ${i}: permissions must be distinct, from ` +
        PERMISSIONS.join(', ')
      );
    }
    if (typeof resource !== 'string' || !isValidPattern(resource)) {
      return (
        `statement ${i}: resource '${String(resource)}' is not a ` +
        'valid pattern'
      );
    }
  }
  return undefined;
}

/** A frozen copy of valid statements; throws InvalidArgumentError. */
export function checkStatements(s: Statement[]): Statement[] {
  const problem = statementsProblem(s);
  if (problem !== undefined) {
    throw new InvalidArgumentError(problem, {
      argument: 'statements',
      reason: problem,
    });
  }
  return freezeStatements(s);
}

/** A deep-frozen copy of `s` (assumed valid). */
export function freezeStatements(s: Statement[]): Statement[] {
  return Object.freeze(
    s.map((st) =>
      Object.freeze({
        permissions: Object.freeze([...st.permissions]) as Permission[],
        resource: st.resource,
      }),
    ),
  ) as Statement[];
}

/**
 * Whether `statements` grant `permission` on `resource` (a URI or a
 * pattern; assumed valid).
 */
export function grants(
  statements: readonly Statement[],
  permission: Permission,
  resource: string,
): boolean {
  return statements.some(
    (s) => s.permissions.includes(permission) && covers(s.resource, resource),
  );
}
