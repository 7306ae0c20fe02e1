import type { UserView } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import { checkMayGrant, grantsOfRoles } from './grants.js';
import { iso, type IdentityStores, type RoleRow, type UserRow } from './model.js';
import { passwordProblem } from './passwords.js';

/** The role whose holders administer everything; one enabled holder must always remain. */
export const ADMIN_ROLE = 'admin';

/** A user as the administration API shows them. */
export function userView(u: UserRow, roles: RoleRow[]): UserView {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    role: roles[0]?.name ?? '',
    roles: roles.map((r) => r.name),
    role_ids: roles.map((r) => r.id),
    auth_provider: u.auth_provider,
    disabled: u.disabled_at !== null,
    disabled_at: iso(u.disabled_at),
    must_change_password: u.must_change_password === 1,
    mfa_enabled: u.mfa_enabled_at !== null,
    created_at: new Date(u.created_at).toISOString(),
    updated_at: new Date(u.updated_at).toISOString(),
    last_login: iso(u.last_login_at),
  };
}

/** The error of a user or role that does not exist (`user.not_found`, `role.not_found`). */
export const notFound = (what: 'user' | 'role', id: string) =>
  new VigilError('not_found', `no ${what} ${id}`, { code: `${what}.not_found` });

/** Refuses to grant or change a role whose permissions the caller does not hold. */
export const checkMayGrantRole = (callerGrants: readonly string[], role: RoleRow): void =>
  checkMayGrant(callerGrants, JSON.parse(role.permissions) as string[], `the role ${role.name}`);

/** @throws VigilError bad_data `auth.weak_password` for a password the policy refuses. */
export function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new VigilError('bad_data', problem, { code: 'auth.weak_password' });
}

/** A user with their roles, as the administration API shows them. @throws not_found. */
export async function viewOf(s: IdentityStores, id: string): Promise<UserView> {
  const u = await s.identity.userById(id);
  if (!u) throw notFound('user', id);
  return userView(u, await s.identity.rolesOf(id));
}

/** A role by id or by name. @throws VigilError bad_data `role.unknown`. */
export async function roleOf(s: IdentityStores, ref: string): Promise<RoleRow> {
  const role = (await s.identity.roleById(ref)) ?? (await s.identity.roleByName(ref));
  if (!role) throw new VigilError('bad_data', `unknown role ${ref}`, { code: 'role.unknown' });
  return role;
}

/** A user by id. @throws VigilError not_found `user.not_found`. */
export async function userOf(s: IdentityStores, id: string): Promise<UserRow> {
  const u = await s.identity.userById(id);
  if (!u) throw notFound('user', id);
  return u;
}

/**
 * A user the caller may change: one whose roles grant nothing the caller does not hold (else
 * changing their password, say, would hand the caller their permissions).
 */
export async function manageableUser(
  s: IdentityStores,
  id: string,
  callerGrants: readonly string[],
): Promise<UserRow> {
  const u = await userOf(s, id);
  checkMayGrant(
    callerGrants,
    grantsOfRoles(await s.identity.rolesOf(id)),
    `the user ${u.username}`,
  );
  return u;
}

/** Refuses when no enabled user would hold the admin role after the change. */
export async function keepAnAdmin(
  s: IdentityStores,
  change: { userId: string; disables?: boolean; dropsAdmin?: boolean },
): Promise<void> {
  const admin = await s.identity.roleByName(ADMIN_ROLE);
  if (!admin) return;
  const holders = await s.identity.holdersOf(admin.id);
  const remaining = holders.filter(
    (h) =>
      h.disabled_at === null && !(h.id === change.userId && (change.disables || change.dropsAdmin)),
  );
  if (remaining.length === 0)
    throw new VigilError(
      'conflict',
      'this would leave no enabled user with the admin role; give the role to another user first',
      { code: 'user.last_admin' },
    );
}
