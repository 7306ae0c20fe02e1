import { randomBytes } from 'node:crypto';
import type { CreateUserRequest, UpdateUserRequest, UserView } from '@vigil/protocol';
import type { Audited, Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { hashPassword } from '../secrets/passwords.js';
import {
  ADMIN_ROLE,
  checkMayGrantRole,
  checkPassword,
  keepAnAdmin,
  manageableUser,
  roleOf,
  userView,
  viewOf,
} from './admin-common.js';
import type { IdentityStore, IdentityStores, RoleRow } from './model.js';
import type { IdentityService } from './service.js';

/**
 * The administration of users: creating, changing, disabling and enabling them, resetting their
 * password or MFA, their roles, and self-registration. See `createUserAdmin` for the rules.
 */
export function createUsers(deps: {
  store: IdentityStore;
  transact: Transact<IdentityStores>;
  audited: Audited<IdentityStores>;
  identity: Pick<IdentityService, 'createUser'>;
  now: () => number;
  allowRegistration: boolean;
}) {
  const { store, transact, audited, now } = deps;
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
      return audited(
        ctx,
        { action: 'user.update', resourceType: 'user', resourceId: id },
        async (s, draft) => {
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
          draft.entry.detail = { username: u.username, ...detail };
          return viewOf(s, id);
        },
      );
    },

    /** Disables a user: no more logins, and every session and token of theirs dies at once. */
    async disableUser(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return audited(
        ctx,
        { action: 'user.disable', resourceType: 'user', resourceId: id },
        async (s, draft) => {
          const u = await manageableUser(s, id, callerGrants);
          if (u.disabled_at === null) {
            await keepAnAdmin(s, { userId: id, disables: true });
            const at = now();
            await s.identity.updateUser(id, { disabled_at: at, updated_at: at });
            const sessions = await s.identity.revokeUserSessions(id, at, 'user_disabled');
            draft.entry.detail = { username: u.username, sessions_revoked: sessions };
          } else draft.skip();
          return viewOf(s, id);
        },
      );
    },

    async enableUser(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return audited(
        ctx,
        { action: 'user.enable', resourceType: 'user', resourceId: id },
        async (s, draft) => {
          const u = await manageableUser(s, id, callerGrants);
          if (u.disabled_at !== null) {
            await s.identity.updateUser(id, { disabled_at: null, updated_at: now() });
            draft.entry.detail = { username: u.username };
          } else draft.skip();
          return viewOf(s, id);
        },
      );
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
      return audited(
        ctx,
        { action: 'user.password_reset', resourceType: 'user', resourceId: id },
        async (s, draft) => {
          const u = await manageableUser(s, id, callerGrants);
          const at = now();
          await s.identity.updateUser(id, {
            password_hash: hash,
            must_change_password: 1,
            updated_at: at,
          });
          const sessions = await s.identity.revokeUserSessions(id, at, 'password_reset');
          draft.entry.detail = { username: u.username, generated, sessions_revoked: sessions };
          const view = await viewOf(s, id);
          return generated ? { user: view, temporary_password: password } : { user: view };
        },
      );
    },

    async assignRole(
      id: string,
      roleRef: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return audited(
        ctx,
        { action: 'user.role_assign', resourceType: 'user', resourceId: id },
        async (s, draft) => {
          const u = await manageableUser(s, id, callerGrants);
          const role = await roleOf(s, roleRef);
          checkMayGrantRole(callerGrants, role);
          await s.identity.assignRole(id, role.id);
          await s.identity.updateUser(id, { updated_at: now() });
          draft.entry.detail = { username: u.username, role: role.name, role_id: role.id };
          return viewOf(s, id);
        },
      );
    },

    async unassignRole(
      id: string,
      roleRef: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return audited(
        ctx,
        { action: 'user.role_unassign', resourceType: 'user', resourceId: id },
        async (s, draft) => {
          const u = await manageableUser(s, id, callerGrants);
          const role = await roleOf(s, roleRef);
          checkMayGrantRole(callerGrants, role);
          if (role.name === ADMIN_ROLE) await keepAnAdmin(s, { userId: id, dropsAdmin: true });
          await s.identity.unassignRole(id, role.id);
          await s.identity.updateUser(id, { updated_at: now() });
          draft.entry.detail = { username: u.username, role: role.name, role_id: role.id };
          return viewOf(s, id);
        },
      );
    },

    /** Turns a user's MFA off (a lost authenticator); they may enroll again. */
    async resetMfa(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<UserView> {
      return audited(
        ctx,
        { action: 'user.mfa_reset', resourceType: 'user', resourceId: id },
        async (s, draft) => {
          const u = await manageableUser(s, id, callerGrants);
          await s.identity.updateUser(id, {
            mfa_secret: null,
            mfa_pending_secret: null,
            mfa_enabled_at: null,
            mfa_last_step: null,
            updated_at: now(),
          });
          draft.entry.detail = { username: u.username };
          return viewOf(s, id);
        },
      );
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
