import { randomBytes, randomUUID } from 'node:crypto';
import {
  isValidGrant,
  type CreateRoleRequest,
  type CreateUserRequest,
  type RoleView,
  type UpdateRoleRequest,
  type UpdateUserRequest,
  type UserView,
} from '@vigil/protocol';
import { auditRow, type AuditEntry, type RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { Sealer } from '../secrets/sealer.js';
import { hashPassword, verifyPassword } from '../secrets/passwords.js';
import { passwordProblem } from './passwords.js';
import { base32, matchTotp, newTotpSecret, provisioningUri } from './totp.js';
import { checkMayGrant, grantsOfRoles } from './grants.js';
import { checkName } from './names.js';
import {
  notAMachine,
  type Identity,
  type IdentityService,
  type IdentityStore,
  type IdentityStores,
  type RoleRow,
  type Transact,
  type UserRow,
} from './service.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The role whose holders administer everything; one enabled holder must always remain. */
const ADMIN_ROLE = 'admin';

function userView(u: UserRow, roles: RoleRow[]): UserView {
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

const roleView = (r: RoleRow): RoleView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  permissions: JSON.parse(r.permissions) as string[],
  is_system: r.is_system === 1,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

const notFound = (what: 'user' | 'role', id: string) =>
  new VigilError('not_found', `no ${what} ${id}`, { code: `${what}.not_found` });

function checkGrants(permissions: string[]): string[] {
  const bad = permissions.filter((p) => !isValidGrant(p));
  if (bad.length > 0)
    throw new VigilError(
      'bad_data',
      `unknown permission ${bad.join(', ')} (see GET /api/v1/auth/permissions:registry)`,
      { code: 'role.unknown_permission' },
    );
  return [...new Set(permissions)];
}

/** A role name shaped like a role id, which paths would read as the id of another role. */
const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Applies the name rules to a role name, and refuses one shaped like a role id: `{id}` in a path
 * is a role's id or its name, so such a name would stand for another role.
 * @throws VigilError bad_data `name.*` or `role.name_is_id`.
 */
function checkRoleName(name: string): string {
  const nfc = checkName(name, 'role name');
  if (UUID_SHAPED.test(nfc.normalize('NFKC')))
    throw new VigilError('bad_data', 'role name must not look like a role id (a UUID)', {
      code: 'role.name_is_id',
    });
  return nfc;
}

/** Refuses to grant or change a role whose permissions the caller does not hold. */
const checkMayGrantRole = (callerGrants: readonly string[], role: RoleRow): void =>
  checkMayGrant(callerGrants, JSON.parse(role.permissions) as string[], `the role ${role.name}`);

function checkPassword(password: string): void {
  const problem = passwordProblem(password);
  if (problem) throw new VigilError('bad_data', problem, { code: 'auth.weak_password' });
}

/**
 * User and role administration, and what users do to their own account. Every change is
 * audited in the transaction that makes it; a change that would leave no enabled user holding
 * the `admin` role is refused (409 `user.last_admin`). Each administrative change takes the
 * caller's grants (`callerGrants`): a caller may grant only what it holds, and may change only a
 * user or role that holds no more than it (403 `role.escalation`, see `checkMayGrant`).
 */
export function createUserAdmin(deps: {
  store: IdentityStore;
  transact: Transact<IdentityStores>;
  identity: IdentityService;
  now: () => number;
  sealer: Sealer;
  allowRegistration: boolean;
}) {
  const { store, transact, now } = deps;
  const audit = (s: IdentityStores, ctx: RequestContext, entry: AuditEntry) =>
    s.audit.insert(auditRow(ctx, entry, now()));

  async function viewOf(s: IdentityStores, id: string): Promise<UserView> {
    const u = await s.identity.userById(id);
    if (!u) throw notFound('user', id);
    return userView(u, await s.identity.rolesOf(id));
  }

  /** A role by id or by name. */
  async function roleOf(s: IdentityStores, ref: string): Promise<RoleRow> {
    const role = (await s.identity.roleById(ref)) ?? (await s.identity.roleByName(ref));
    if (!role) throw new VigilError('bad_data', `unknown role ${ref}`, { code: 'role.unknown' });
    return role;
  }

  /** Refuses when no enabled user would hold the admin role after the change. */
  async function keepAnAdmin(
    s: IdentityStores,
    change: { userId: string; disables?: boolean; dropsAdmin?: boolean },
  ): Promise<void> {
    const admin = await s.identity.roleByName(ADMIN_ROLE);
    if (!admin) return;
    const holders = await s.identity.holdersOf(admin.id);
    const remaining = holders.filter(
      (h) =>
        h.disabled_at === null &&
        !(h.id === change.userId && (change.disables || change.dropsAdmin)),
    );
    if (remaining.length === 0)
      throw new VigilError(
        'conflict',
        'this would leave no enabled user with the admin role; give the role to another user first',
        { code: 'user.last_admin' },
      );
  }

  async function user(s: IdentityStores, id: string): Promise<UserRow> {
    const u = await s.identity.userById(id);
    if (!u) throw notFound('user', id);
    return u;
  }

  /**
   * A user the caller may change: one whose roles grant nothing the caller does not hold (else
   * changing their password, say, would hand the caller their permissions).
   */
  async function manageableUser(
    s: IdentityStores,
    id: string,
    callerGrants: readonly string[],
  ): Promise<UserRow> {
    const u = await user(s, id);
    checkMayGrant(
      callerGrants,
      grantsOfRoles(await s.identity.rolesOf(id)),
      `the user ${u.username}`,
    );
    return u;
  }

  return {
    async listUsers(): Promise<UserView[]> {
      const users = await store.listUsers();
      const roles = await store.rolesOfUsers(users.map((u) => u.id));
      return users.map((u) => userView(u, roles.get(u.id) ?? []));
    },

    getUser: (id: string) => transact((s) => viewOf(s, id)),

    /** @throws VigilError bad_data (weak password, unknown role), conflict (name taken). */
    async createUser(
      input: CreateUserRequest,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      const names = await transact(async (s) => {
        const out: string[] = [];
        for (const ref of input.roles ?? []) {
          const role = await roleOf(s, ref);
          checkMayGrantRole(callerGrants, role);
          out.push(role.name);
        }
        return out;
      });
      const created = await deps.identity.createUser(
        {
          username: input.username,
          email: input.email ?? null,
          password: input.password,
          roles: names,
          mustChangePassword: input.must_change_password ?? false,
        },
        ctx,
      );
      return transact((s) => viewOf(s, created.id));
    },

    /** Changes the e-mail address and/or replaces the roles. */
    async updateUser(
      id: string,
      input: UpdateUserRequest,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ) {
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        const at = now();
        const detail: Record<string, unknown> = {};
        if (input.email !== undefined) {
          await s.identity.updateUser(id, { email: input.email, updated_at: at });
          detail.email = input.email;
        }
        if (input.roles !== undefined) {
          const wanted: RoleRow[] = [];
          for (const ref of input.roles) wanted.push(await roleOf(s, ref));
          const current = await s.identity.rolesOf(id);
          const keep = new Set(wanted.map((r) => r.id));
          const had = new Set(current.map((r) => r.id));
          for (const r of wanted) if (!had.has(r.id)) checkMayGrantRole(callerGrants, r);
          if (
            current.some((r) => r.name === ADMIN_ROLE) &&
            !wanted.some((r) => r.name === ADMIN_ROLE)
          )
            await keepAnAdmin(s, { userId: id, dropsAdmin: true });
          for (const r of current) if (!keep.has(r.id)) await s.identity.unassignRole(id, r.id);
          for (const r of wanted) await s.identity.assignRole(id, r.id);
          await s.identity.updateUser(id, { updated_at: at });
          detail.roles = wanted.map((r) => r.name);
        }
        await audit(s, ctx, {
          action: 'user.update',
          resourceType: 'user',
          resourceId: id,
          detail: { username: u.username, ...detail },
        });
        return viewOf(s, id);
      });
    },

    /** Disables a user: no more logins, and every session and token of theirs dies at once. */
    async disableUser(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        if (u.disabled_at === null) {
          await keepAnAdmin(s, { userId: id, disables: true });
          const at = now();
          await s.identity.updateUser(id, { disabled_at: at, updated_at: at });
          const sessions = await s.identity.revokeUserSessions(id, at, 'user_disabled');
          await audit(s, ctx, {
            action: 'user.disable',
            resourceType: 'user',
            resourceId: id,
            detail: { username: u.username, sessions_revoked: sessions },
          });
        }
        return viewOf(s, id);
      });
    },

    async enableUser(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        if (u.disabled_at !== null) {
          await s.identity.updateUser(id, { disabled_at: null, updated_at: now() });
          await audit(s, ctx, {
            action: 'user.enable',
            resourceType: 'user',
            resourceId: id,
            detail: { username: u.username },
          });
        }
        return viewOf(s, id);
      });
    },

    /**
     * Sets a new password chosen by an administrator (or a generated one, returned once); the
     * user must change it at the next login, and their sessions end.
     */
    async resetPassword(
      id: string,
      newPassword: string | undefined,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<{ user: UserView; temporary_password?: string }> {
      const generated = newPassword === undefined;
      const password = newPassword ?? randomBytes(15).toString('base64url');
      checkPassword(password);
      const hash = await hashPassword(password);
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        const at = now();
        await s.identity.updateUser(id, {
          password_hash: hash,
          must_change_password: 1,
          updated_at: at,
        });
        const sessions = await s.identity.revokeUserSessions(id, at, 'password_reset');
        await audit(s, ctx, {
          action: 'user.password_reset',
          resourceType: 'user',
          resourceId: id,
          detail: { username: u.username, generated, sessions_revoked: sessions },
        });
        const view = await viewOf(s, id);
        return generated ? { user: view, temporary_password: password } : { user: view };
      });
    },

    async assignRole(
      id: string,
      roleRef: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        const role = await roleOf(s, roleRef);
        checkMayGrantRole(callerGrants, role);
        await s.identity.assignRole(id, role.id);
        await s.identity.updateUser(id, { updated_at: now() });
        await audit(s, ctx, {
          action: 'user.role_assign',
          resourceType: 'user',
          resourceId: id,
          detail: { username: u.username, role: role.name, role_id: role.id },
        });
        return viewOf(s, id);
      });
    },

    async unassignRole(
      id: string,
      roleRef: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        const role = await roleOf(s, roleRef);
        checkMayGrantRole(callerGrants, role);
        if (role.name === ADMIN_ROLE) await keepAnAdmin(s, { userId: id, dropsAdmin: true });
        await s.identity.unassignRole(id, role.id);
        await s.identity.updateUser(id, { updated_at: now() });
        await audit(s, ctx, {
          action: 'user.role_unassign',
          resourceType: 'user',
          resourceId: id,
          detail: { username: u.username, role: role.name, role_id: role.id },
        });
        return viewOf(s, id);
      });
    },

    listRoles: async (): Promise<RoleView[]> => (await store.listRoles()).map(roleView),

    /** A role by id or by name. */
    async getRole(ref: string): Promise<RoleView> {
      const r = (await store.roleById(ref)) ?? (await store.roleByName(ref));
      if (!r) throw notFound('role', ref);
      return roleView(r);
    },

    /** @throws VigilError bad_data (unknown permission), conflict (name taken). */
    async createRole(
      input: CreateRoleRequest,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<RoleView> {
      const name = checkRoleName(input.name);
      const permissions = checkGrants(input.permissions);
      checkMayGrant(callerGrants, permissions, `the role ${name}`);
      return transact(async (s) => {
        if (await s.identity.roleByName(name))
          throw new VigilError('conflict', `a role named ${name} exists`, {
            code: 'role.exists',
          });
        const at = now();
        const row: RoleRow = {
          id: randomUUID(),
          name,
          description: input.description ?? '',
          permissions: JSON.stringify(permissions),
          is_system: 0,
          created_at: at,
          updated_at: at,
        };
        await s.identity.insertRole(row);
        await audit(s, ctx, {
          action: 'role.create',
          resourceType: 'role',
          resourceId: row.id,
          detail: { name: row.name, permissions },
        });
        return roleView(row);
      });
    },

    /**
     * Changes a custom role, named by id or by name.
     * @throws VigilError conflict for a built-in role or a name taken.
     */
    async updateRole(
      ref: string,
      input: UpdateRoleRequest,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<RoleView> {
      const permissions = input.permissions ? checkGrants(input.permissions) : undefined;
      const newName = input.name === undefined ? undefined : checkRoleName(input.name);
      return transact(async (s) => {
        const r = (await s.identity.roleById(ref)) ?? (await s.identity.roleByName(ref));
        if (!r) throw notFound('role', ref);
        const id = r.id;
        if (r.is_system === 1)
          throw new VigilError('conflict', `the built-in role ${r.name} cannot be changed`, {
            code: 'role.system',
          });
        checkMayGrantRole(callerGrants, r);
        if (permissions) checkMayGrant(callerGrants, permissions, `the role ${r.name}`);
        if (newName !== undefined && newName !== r.name) {
          if (await s.identity.roleByName(newName))
            throw new VigilError('conflict', `a role named ${newName} exists`, {
              code: 'role.exists',
            });
        }
        const patch: Partial<RoleRow> = { updated_at: now() };
        if (newName !== undefined) patch.name = newName;
        if (input.description !== undefined) patch.description = input.description;
        if (permissions) patch.permissions = JSON.stringify(permissions);
        await s.identity.updateRole(id, patch);
        await audit(s, ctx, {
          action: 'role.update',
          resourceType: 'role',
          resourceId: id,
          detail: { name: newName ?? r.name, ...(permissions ? { permissions } : {}) },
        });
        return roleView({ ...r, ...patch });
      });
    },

    /**
     * Deletes a custom role, named by id or by name.
     * @throws VigilError conflict for a built-in role or one still held by users or API clients.
     */
    async deleteRole(
      ref: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<void> {
      await transact(async (s) => {
        const r = (await s.identity.roleById(ref)) ?? (await s.identity.roleByName(ref));
        if (!r) throw notFound('role', ref);
        const id = r.id;
        if (r.is_system === 1)
          throw new VigilError('conflict', `the built-in role ${r.name} cannot be deleted`, {
            code: 'role.system',
          });
        checkMayGrantRole(callerGrants, r);
        const holders = await s.identity.holdersOf(id);
        if (holders.length > 0)
          throw new VigilError(
            'conflict',
            `the role ${r.name} is held by ${holders.length} user(s); unassign it first`,
            { code: 'role.in_use' },
          );
        const clients = await s.identity.clientHoldersOf(id);
        if (clients.length > 0)
          throw new VigilError(
            'conflict',
            `the role ${r.name} is held by the API client(s) ${clients.join(', ')}; take it from them first`,
            { code: 'role.in_use' },
          );
        await s.identity.deleteRole(id);
        await audit(s, ctx, {
          action: 'role.delete',
          resourceType: 'role',
          resourceId: id,
          detail: { name: r.name },
        });
      });
    },

    /** The caller changes their own e-mail address. */
    async updateMe(caller: Identity, input: { email: string | null }, ctx: RequestContext) {
      notAMachine(caller);
      return transact(async (s) => {
        await s.identity.updateUser(caller.userId, { email: input.email, updated_at: now() });
        await audit(s, ctx, {
          action: 'user.update',
          resourceType: 'user',
          resourceId: caller.userId,
          detail: { username: caller.username, email: input.email, self: true },
        });
        return viewOf(s, caller.userId);
      });
    },

    /**
     * The caller changes their own password, proving the current one; every other session of
     * theirs ends. The current password is checked behind the login throttle, counted against the
     * caller's user name and address as a login is (a stolen session cannot guess it faster), and
     * each wrong one is audited (`auth.password_change_failed`).
     * @throws VigilError bad_data `auth.wrong_password` or `auth.weak_password`;
     * too_many_requests `auth.too_many_attempts`.
     */
    async changePassword(
      caller: Identity,
      input: { current_password: string; new_password: string },
      ctx: RequestContext,
    ): Promise<void> {
      notAMachine(caller);
      const right = await deps.identity.throttledCheck(
        { user: caller.username },
        ctx.sourceAddress,
        async () => {
          const u = await store.userById(caller.userId);
          return !!u && (await verifyPassword(u.password_hash, input.current_password));
        },
      );
      if (!right) {
        await transact((s) =>
          audit(s, ctx, {
            action: 'auth.password_change_failed',
            resourceType: 'user',
            resourceId: caller.userId,
            detail: { username: caller.username },
          }),
        );
        throw new VigilError('bad_data', 'the current password is not correct', {
          code: 'auth.wrong_password',
        });
      }
      checkPassword(input.new_password);
      if (input.new_password === input.current_password)
        throw new VigilError('bad_data', 'the new password must differ from the current one', {
          code: 'auth.weak_password',
        });
      const hash = await hashPassword(input.new_password);
      await transact(async (s) => {
        const at = now();
        await s.identity.updateUser(caller.userId, {
          password_hash: hash,
          must_change_password: 0,
          updated_at: at,
        });
        const sessions = await s.identity.revokeUserSessions(
          caller.userId,
          at,
          'password_changed',
          caller.sessionId,
        );
        await audit(s, ctx, {
          action: 'auth.password_change',
          resourceType: 'user',
          resourceId: caller.userId,
          detail: { username: caller.username, other_sessions_revoked: sessions },
        });
      });
    },

    /**
     * Starts TOTP enrollment for the caller: a new secret, sealed and kept pending until a code
     * from it is verified. Answers the otpauth:// URI (and the secret, for typing in).
     * @throws VigilError conflict `auth.mfa_enabled` when MFA is already on.
     */
    async mfaEnroll(caller: Identity, ctx: RequestContext) {
      notAMachine(caller);
      const secret = newTotpSecret();
      return transact(async (s) => {
        const u = await user(s, caller.userId);
        if (u.mfa_enabled_at !== null)
          throw new VigilError(
            'conflict',
            'two-factor authentication is already on for this account',
            { code: 'auth.mfa_enabled' },
          );
        await s.identity.updateUser(u.id, {
          mfa_pending_secret: deps.sealer.seal(secret),
          updated_at: now(),
        });
        await audit(s, ctx, {
          action: 'auth.mfa_enroll',
          resourceType: 'user',
          resourceId: u.id,
          detail: { username: u.username },
        });
        return { provisioning_uri: provisioningUri(secret, u.username), secret: base32(secret) };
      });
    },

    /**
     * Confirms the pending secret with a current code: from then on, logins need a code.
     * @throws VigilError bad_data `auth.mfa_not_enrolling` or `auth.mfa_invalid`.
     */
    async mfaVerify(caller: Identity, otp: string, ctx: RequestContext) {
      notAMachine(caller);
      return transact(async (s) => {
        const u = await user(s, caller.userId);
        if (u.mfa_pending_secret === null)
          throw new VigilError('bad_data', 'no enrollment is pending: call mfa:enroll first', {
            code: 'auth.mfa_not_enrolling',
          });
        const at = now();
        const step = matchTotp(deps.sealer.open(u.mfa_pending_secret), otp, at, null);
        if (step === undefined)
          throw new VigilError('bad_data', 'the one-time code is wrong or expired', {
            code: 'auth.mfa_invalid',
          });
        await s.identity.updateUser(u.id, {
          mfa_secret: u.mfa_pending_secret,
          mfa_pending_secret: null,
          mfa_enabled_at: at,
          mfa_last_step: step,
          updated_at: at,
        });
        await audit(s, ctx, {
          action: 'auth.mfa_enable',
          resourceType: 'user',
          resourceId: u.id,
          detail: { username: u.username },
        });
        return { mfa_enabled: true };
      });
    },

    /** Turns a user's MFA off (a lost authenticator); they may enroll again. */
    async resetMfa(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return transact(async (s) => {
        const u = await manageableUser(s, id, callerGrants);
        await s.identity.updateUser(id, {
          mfa_secret: null,
          mfa_pending_secret: null,
          mfa_enabled_at: null,
          mfa_last_step: null,
          updated_at: now(),
        });
        await audit(s, ctx, {
          action: 'user.mfa_reset',
          resourceType: 'user',
          resourceId: id,
          detail: { username: u.username },
        });
        return viewOf(s, id);
      });
    },

    /**
     * Self-registration (`auth.allow_registration`): a local user with the viewer role.
     * @throws VigilError forbidden `auth.registration_disabled` when it is off.
     */
    async register(
      input: { username: string; password: string; email?: string | null },
      ctx: RequestContext,
    ): Promise<UserView> {
      if (!deps.allowRegistration)
        throw new VigilError(
          'forbidden',
          'self-registration is disabled on this server (auth.allow_registration)',
          { code: 'auth.registration_disabled' },
        );
      const created = await deps.identity.createUser(
        {
          username: input.username,
          email: input.email ?? null,
          password: input.password,
          roles: ['viewer'],
        },
        { ...ctx, actor: { type: 'user', id: null, label: input.username.slice(0, 128) } },
      );
      return transact((s) => viewOf(s, created.id));
    },
  };
}

/** The user administration service's type. */
export type UserAdmin = ReturnType<typeof createUserAdmin>;
