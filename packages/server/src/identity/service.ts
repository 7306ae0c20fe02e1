import { randomBytes, randomUUID } from 'node:crypto';
import { SYSTEM_ROLES, type TokenPair, type UserSummary } from '@vigil/protocol';
import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { hashPassword, verifyPassword } from '../secrets/passwords.js';
import type { Sealer } from '../secrets/sealer.js';
import { createAuthenticator } from './authenticate.js';
import { grantsOfRoles } from './grants.js';
import { createLogin } from './login.js';
import {
  notAMachine,
  summary,
  type Identity,
  type IdentityStore,
  type IdentityStores,
  type RoleRow,
  type TokenPolicy,
  type UserRow,
} from './model.js';
import { checkName } from './names.js';
import { passwordProblem } from './passwords.js';
import { createSessions, pairBody, type ClientTokenPolicy } from './sessions.js';
import type { ThrottlePolicy } from './throttle.js';

/**
 * Users, sessions and bearer tokens: the identity service that routes, the HTTP layer's
 * authentication and the other identity services use. Logins, sessions and authentication are
 * built in their own modules (`login.ts`, `sessions.ts`, `authenticate.ts`) and joined here.
 */
export const createIdentityService = (deps: {
  store: IdentityStore;
  transact: Transact<IdentityStores>;
  tokens: TokenPolicy;
  now: () => number;
  sealer: Sealer;
  /** Key of the CSRF tokens (the instance secret, shared by every server process). */
  csrfKey: Buffer;
  throttle?: ThrottlePolicy;
}) => {
  const { store, now } = deps;
  const audited = createAudited(deps.transact, now);
  const sessions = createSessions({ audited, tokens: deps.tokens, now });
  const login = createLogin({
    store,
    audited,
    sessions,
    tokens: deps.tokens,
    now,
    sealer: deps.sealer,
    throttle: deps.throttle,
  });
  const authenticator = createAuthenticator({
    store,
    tokens: deps.tokens,
    now,
    csrfKey: deps.csrfKey,
  });

  /**
   * Creates a local user holding the named roles.
   * @throws VigilError bad_data for a weak password or unknown role, conflict for a taken name.
   */
  async function createUser(
    input: {
      username: string;
      email?: string | null;
      password: string;
      roles: string[];
      mustChangePassword?: boolean;
    },
    ctx: RequestContext,
  ): Promise<UserSummary> {
    const problem = passwordProblem(input.password);
    if (problem) throw new VigilError('bad_data', problem, { code: 'auth.weak_password' });
    if (!/^[A-Za-z0-9._@-]{1,128}$/.test(input.username))
      throw new VigilError(
        'bad_data',
        'username must be 1–128 letters, digits, dots, underscores, @ or dashes',
      );
    checkName(input.username, 'username');
    const passwordHash = await hashPassword(input.password);
    return audited(ctx, { action: 'user.create', resourceType: 'user' }, async (s, draft) => {
      if (await s.identity.userByName(input.username))
        throw new VigilError('conflict', `user ${input.username} already exists`, {
          code: 'user.exists',
        });
      const roles: RoleRow[] = [];
      for (const name of input.roles) {
        const role = await s.identity.roleByName(name);
        if (!role) throw new VigilError('bad_data', `unknown role ${name}`);
        roles.push(role);
      }
      const at = now();
      const user: UserRow = {
        id: randomUUID(),
        username: input.username,
        email: input.email ?? null,
        password_hash: passwordHash,
        auth_provider: 'local',
        created_at: at,
        updated_at: at,
        last_login_at: null,
        disabled_at: null,
        must_change_password: input.mustChangePassword ? 1 : 0,
        mfa_secret: null,
        mfa_pending_secret: null,
        mfa_enabled_at: null,
        mfa_last_step: null,
      };
      await s.identity.insertUser(user);
      for (const role of roles) await s.identity.assignRole(user.id, role.id);
      draft.entry.resourceId = user.id;
      draft.entry.detail = { username: user.username, email: user.email, roles: input.roles };
      return summary(user, roles);
    });
  }

  return {
    /** Creates or updates the built-in roles so that their grants match this version of Vigil. */
    async syncSystemRoles(): Promise<void> {
      const at = now();
      for (const r of SYSTEM_ROLES) {
        await store.upsertSystemRole({
          id: randomUUID(),
          name: r.name,
          description: r.description,
          permissions: JSON.stringify(r.grants),
          is_system: 1,
          created_at: at,
          updated_at: at,
        });
      }
    },

    /** Number of users, disabled ones included. */
    countUsers: () => store.countUsers(),

    /**
     * Creates the first user, `admin` with the admin role, when no user exists yet. Returns the
     * password when a user was created (the given one, or a generated one), else undefined.
     */
    async ensureFirstAdmin(
      password: string | undefined,
      ctx: RequestContext,
    ): Promise<{ password: string; generated: boolean } | undefined> {
      if ((await store.countUsers()) > 0) return undefined;
      const generated = !password;
      const pw = password || randomBytes(18).toString('base64url');
      try {
        await createUser({ username: 'admin', password: pw, roles: ['admin'] }, ctx);
      } catch (err) {
        // Another process created it first.
        if (err instanceof VigilError && err.kind === 'conflict') return undefined;
        throw err;
      }
      return { password: pw, generated };
    },

    /**
     * Whether a local user's password is still `password`: for the start-up notes only (the
     * initial admin password file is worth pointing to until the admin changes it). Neither
     * throttled nor audited: no caller's guess reaches it.
     */
    async passwordStillIs(username: string, password: string): Promise<boolean> {
      const user = await store.userByName(username);
      return user !== undefined && (await verifyPassword(user.password_hash, password));
    },

    createUser,
    login: login.login,
    checkCredentials: login.checkCredentials,
    throttledCheck: login.throttledCheck,

    /**
     * The identity of a user name and password sent with a request (HTTP Basic, on the faces
     * that take it): the login's check, behind the same throttle and audited the same way. No
     * session is opened; the identity lasts for the request.
     * @throws VigilError unauthenticated `auth.invalid_credentials` (or the MFA codes: a user
     *   with two-factor authentication cannot use a password alone); too_many_requests
     *   `auth.too_many_attempts`.
     */
    async authenticatePassword(
      username: string,
      password: string,
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<Identity> {
      const user = await login.checkCredentials({ username, password }, ctx);
      const roles = await store.rolesOf(user.id);
      return {
        kind: 'user',
        userId: user.id,
        username: user.username,
        email: user.email,
        roles: roles.map((r) => r.name),
        grants: grantsOfRoles(roles),
        sessionId: `password:${user.id}`,
        actor: { type: 'user', id: user.id, label: user.username },
        mustChangePassword: user.must_change_password === 1,
      };
    },

    /**
     * Opens a session for a user through an OAuth client, with the client's token lifetimes
     * (no refresh token when the client does not allow refreshing).
     */
    async openClientSession(
      user: UserRow,
      client: { clientId: string; accessTtlSeconds: number; refreshTtlSeconds: number | null },
      ctx: Omit<RequestContext, 'actor'>,
    ) {
      return sessions.openSession(
        user,
        ctx,
        client.clientId,
        {
          accessTtlSeconds: client.accessTtlSeconds,
          refreshTtlSeconds: client.refreshTtlSeconds ?? 0,
        },
        'oauth.token',
        client.refreshTtlSeconds !== null,
      );
    },

    /**
     * Exchanges a refresh token for a new pair (rotation). Presenting a refresh token that was
     * already used revokes its whole session, every token of the family with it.
     * @throws VigilError unauthenticated `auth.refresh_invalid` or `auth.refresh_reused`.
     */
    async refresh(token: string, ctx: Omit<RequestContext, 'actor'>): Promise<TokenPair> {
      const r = await sessions.rotate(token, ctx, null);
      return pairBody(
        { ...r.pair, refresh: r.pair.refresh!, refreshExp: r.pair.refreshExp! },
        summary(r.user, await store.rolesOf(r.user.id)),
        r.at,
      );
    },

    /**
     * The refresh_token grant of an OAuth client: rotation as above, only for refresh tokens
     * issued to that client, with its lifetimes.
     * @throws VigilError unauthenticated `auth.refresh_invalid` or `auth.refresh_reused`.
     */
    refreshForClient(token: string, client: ClientTokenPolicy, ctx: Omit<RequestContext, 'actor'>) {
      return sessions.rotate(token, ctx, client);
    },

    revokeForClient: sessions.revokeForClient,
    logout: sessions.logout,
    authenticate: authenticator.authenticate,
    authenticateCookie: authenticator.authenticateCookie,
    openCookie: authenticator.openCookie,
    csrfToken: authenticator.csrfToken,

    /** The caller's profile. */
    async me(identity: Identity): Promise<UserSummary> {
      notAMachine(identity);
      const user = await store.userById(identity.userId);
      if (!user) throw new VigilError('unauthenticated', 'the user no longer exists');
      return summary(user, await store.rolesOf(user.id));
    },
  };
};

/** The identity service's type. */
export type IdentityService = ReturnType<typeof createIdentityService>;
