import { permits } from '@vigil/protocol';
import { VigilError } from '../errors.js';

/**
 * Tells whether a caller holding `held` may hand out the grant `grant`. An exact permission may be
 * handed out by whoever holds it (directly or through a pattern). A pattern (`*`, `domain:*`,
 * `*:action`) covers permissions that later versions of Vigil add, so it may be handed out only
 * by a caller who holds that same pattern, or `*`.
 */
export function mayHandOut(held: readonly string[], grant: string): boolean {
  if (held.includes('*') || held.includes(grant)) return true;
  if (grant.includes('*')) return false;
  return permits(held, grant);
}

/**
 * The one rule of delegation, for users and machine clients alike: a caller may grant only what it
 * holds itself. It applies wherever permissions are granted or taken away: a role's permissions
 * (creating, changing or deleting a role), the roles of a user or of an API client, and every
 * change to an account or client that holds more than the caller (resetting its password, turning
 * on a grant of a client). A caller holding `*` passes everywhere.
 * @param held the caller's grants.
 * @param granted the grants (possibly patterns) of what is being granted or changed.
 * @param what what is being granted or changed, as the error names it (`the role ops`).
 * @throws VigilError forbidden `role.escalation`, listing what the caller does not hold.
 */
export function checkMayGrant(
  held: readonly string[],
  granted: readonly string[],
  what: string,
): void {
  const beyond = [...new Set(granted.filter((g) => !mayHandOut(held, g)))];
  if (beyond.length > 0)
    throw new VigilError(
      'forbidden',
      `${what} grants what you do not hold yourself (${beyond.join(', ')})`,
      { code: 'role.escalation' },
    );
}

/** The grants of roles as stored (each role's `permissions` is a JSON array). */
export const grantsOfRoles = (roles: readonly { permissions: string }[]): string[] => [
  ...new Set(roles.flatMap((r) => JSON.parse(r.permissions) as string[])),
];
