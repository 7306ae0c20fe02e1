import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { SYSTEM_ROLES, type TokenPair, type UserSummary } from '@vigil/protocol';
import {
  auditRow,
  type Actor,
  type AuditEntry,
  type AuditStore,
  type RequestContext,
} from '../audit/service.js';
import { VigilError } from '../errors.js';
import { hashPassword, verifyPassword } from '../secrets/passwords.js';
import type { Sealer } from '../secrets/sealer.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import { createLoginThrottle, type ThrottlePolicy, type ThrottleSubject } from './throttle.js';
import { matchTotp } from './totp.js';
import { checkName } from './names.js';
import { passwordProblem } from './passwords.js';
import type { Database } from '../db/schema.js';

/** A user row. */
export type UserRow = Database['users'];
/** A role row. */
export type RoleRow = Database['roles'];

/** A live token with its session and user, as authentication needs it. */
export interface TokenLookup {
  token_hash: string;
  kind: 'access' | 'refresh' | 'cookie';
  expires_at: number;
  used_at: number | null;
  session_id: string;
  session_revoked_at: number | null;
  /** The OAuth client the session belongs to; null for a login. */
  session_client_id: string | null;
  user_id: string;
  user_disabled_at: number | null;
}

/** A client_credentials access token with its client, as authentication needs it. */
export interface ClientTokenLookup {
  token_hash: string;
  expires_at: number;
  revoked_at: number | null;
  /** The client's row id (`oauth_clients.id`). */
  client_row_id: string;
  /** The client's public `client_id`. */
  client_id: string;
  allow_client_credentials: number;
}

/** Queries of the identity domain. Lookups return undefined when absent; they never throw. */
export interface IdentityStore {
  countUsers(): Promise<number>;
  userByName(username: string): Promise<UserRow | undefined>;
  userById(id: string): Promise<UserRow | undefined>;
  insertUser(row: Database['users']): Promise<void>;
  setLastLogin(userId: string, atMs: number): Promise<void>;
  rolesOf(userId: string): Promise<RoleRow[]>;
  roleByName(name: string): Promise<RoleRow | undefined>;
  upsertSystemRole(row: Database['roles']): Promise<void>;
  assignRole(userId: string, roleId: string): Promise<void>;
  insertSession(row: Database['sessions']): Promise<void>;
  extendSession(id: string, expiresAt: number): Promise<void>;
  insertToken(row: Database['session_tokens']): Promise<void>;
  findToken(hash: string): Promise<TokenLookup | undefined>;
  /** Marks a refresh token used; returns false when it was already used (a concurrent reuse). */
  markTokenUsed(hash: string, atMs: number): Promise<boolean>;
  revokeSession(id: string, atMs: number, reason: string): Promise<void>;
  /** Records a TOTP step as used if it is after the last one; false when it is not (reuse). */
  useMfaStep(userId: string, step: number): Promise<boolean>;
  /** Revokes every open session of a user but `keep`; returns how many. */
  revokeUserSessions(userId: string, atMs: number, reason: string, keep?: string): Promise<number>;
  listUsers(): Promise<UserRow[]>;
  /** The roles of each of the users, by user id. */
  rolesOfUsers(userIds: string[]): Promise<Map<string, RoleRow[]>>;
  updateUser(id: string, patch: Partial<Omit<UserRow, 'id'>>): Promise<void>;
  listRoles(): Promise<RoleRow[]>;
  roleById(id: string): Promise<RoleRow | undefined>;
  insertRole(row: RoleRow): Promise<void>;
  updateRole(id: string, patch: Partial<Omit<RoleRow, 'id'>>): Promise<void>;
  deleteRole(id: string): Promise<void>;
  unassignRole(userId: string, roleId: string): Promise<void>;
  /** Users (enabled or not) holding a role. */
  holdersOf(roleId: string): Promise<{ id: string; disabled_at: number | null }[]>;
  /** The `client_id`s of the OAuth clients holding a role. */
  clientHoldersOf(roleId: string): Promise<string[]>;
  /** The roles a machine client acts with, by its row id. */
  rolesOfClient(clientRowId: string): Promise<RoleRow[]>;
  /** Replaces the roles of a machine client. */
  setClientRoles(clientRowId: string, roleIds: string[]): Promise<void>;
  insertClientToken(row: Database['oauth_client_tokens']): Promise<void>;
  findClientToken(hash: string): Promise<ClientTokenLookup | undefined>;
  /** Deletes the tokens of a client that expired before `atMs`. */
  pruneClientTokens(clientRowId: string, atMs: number): Promise<void>;
  /** Revokes every live token of a client; returns how many. */
  revokeClientTokens(clientRowId: string, atMs: number): Promise<number>;
  /** Revokes one live token of a client; false when there was none. */
  revokeClientToken(hash: string, clientRowId: string, atMs: number): Promise<boolean>;
}

/** The stores a unit of work sees; each is bound to the same transaction. */
export interface IdentityStores {
  identity: IdentityStore;
  audit: AuditStore;
}

/** Runs `fn` in one transaction: all of its writes commit together or not at all. */
export type Transact<S> = <T>(fn: (stores: S) => Promise<T>) => Promise<T>;

/** An authenticated caller: a user, or a machine client (the client_credentials grant). */
export interface Identity {
  /** `user`, or `client` for a machine client acting as itself with its own roles. */
  readonly kind: 'user' | 'client';
  /** The user's id; for a machine client, `oauth_client:` and the client's row id. */
  readonly userId: string;
  /** The user name; for a machine client, its `client_id`. */
  readonly username: string;
  readonly email: string | null;
  readonly roles: readonly string[];
  /** Permission grants (possibly patterns) from every role held. */
  readonly grants: readonly string[];
  /** The session; for a machine client, the hash of its access token. */
  readonly sessionId: string;
  readonly actor: Actor;
  /** An administrator reset the password: only changing it (and logging out) is allowed. */
  readonly mustChangePassword: boolean;
}

/** Lifetimes of issued tokens, in seconds. */
export interface TokenPolicy {
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

const grantsOf = (roles: RoleRow[]): string[] => [
  ...new Set(roles.flatMap((r) => JSON.parse(r.permissions) as string[])),
];

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function summary(user: UserRow, roles: RoleRow[]): UserSummary {
  const names = roles.map((r) => r.name);
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: names[0] ?? '',
    roles: names,
    permissions: grantsOf(roles),
    auth_provider: user.auth_provider,
    last_login: iso(user.last_login_at),
    must_change_password: user.must_change_password === 1,
  };
}

/** The prefix of the access tokens of the client_credentials grant. */
export const CLIENT_TOKEN_PREFIX = 'vgc';
/** How a machine client's `Identity.userId` begins; its row id follows. */
export const CLIENT_PREFIX = 'oauth_client:';

/**
 * Refuses what only a user account can do (its profile, password, two-factor setup) to a machine
 * client. @throws VigilError forbidden `auth.not_a_user`.
 */
export function notAMachine(identity: Identity): void {
  if (identity.kind === 'client')
    throw new VigilError('forbidden', 'a machine client has no user account', {
      code: 'auth.not_a_user',
    });
}

const INVALID_CREDENTIALS = () =>
  new VigilError('unauthenticated', 'invalid username or password', {
    code: 'auth.invalid_credentials',
  });
const INVALID_REFRESH = () =>
  new VigilError('unauthenticated', 'the refresh token is invalid or expired', {
    code: 'auth.refresh_invalid',
  });

/** Users, sessions and bearer tokens. */
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
  const { store, transact, now } = deps;
  const throttle = createLoginThrottle(now, deps.throttle);

  /**
   * The identity of a client_credentials access token: the client itself, with the roles given
   * to it. Undefined when the token is unknown, expired or revoked, or the client is no longer
   * allowed the grant.
   */
  async function authenticateClient(token: string): Promise<Identity | undefined> {
    const t = await store.findClientToken(hashToken(token));
    if (!t || t.expires_at <= now() || t.revoked_at !== null || t.allow_client_credentials !== 1)
      return undefined;
    const roles = await store.rolesOfClient(t.client_row_id);
    return {
      kind: 'client',
      userId: `${CLIENT_PREFIX}${t.client_row_id}`,
      username: t.client_id,
      email: null,
      roles: roles.map((r) => r.name),
      grants: grantsOf(roles),
      sessionId: t.token_hash,
      actor: { type: 'oauth_client', id: t.client_row_id, label: t.client_id, via: t.client_id },
      mustChangePassword: false,
    };
  }

  /**
   * Issues an access token, and a refresh token unless `withRefresh` is false, in `sessionId`,
   * inside the caller's transaction.
   */
  async function issuePair(
    s: IdentityStores,
    sessionId: string,
    at: number,
    ttl: TokenPolicy = deps.tokens,
    withRefresh = true,
  ) {
    const access = newToken('vga');
    const accessExp = at + ttl.accessTtlSeconds * 1000;
    await s.identity.insertToken({
      token_hash: hashToken(access),
      session_id: sessionId,
      kind: 'access',
      created_at: at,
      expires_at: accessExp,
      used_at: null,
    });
    if (!withRefresh) {
      await s.identity.extendSession(sessionId, accessExp);
      return { access, refresh: undefined, accessExp, refreshExp: undefined };
    }
    const refresh = newToken('vgr');
    const refreshExp = at + ttl.refreshTtlSeconds * 1000;
    await s.identity.insertToken({
      token_hash: hashToken(refresh),
      session_id: sessionId,
      kind: 'refresh',
      created_at: at,
      expires_at: refreshExp,
      used_at: null,
    });
    await s.identity.extendSession(sessionId, refreshExp);
    return { access, refresh, accessExp, refreshExp };
  }

  const pairBody = (
    p: { access: string; refresh: string; accessExp: number; refreshExp: number },
    user: UserSummary,
    at: number,
  ): TokenPair => ({
    access_token: p.access,
    refresh_token: p.refresh,
    token: p.access,
    token_type: 'Bearer',
    expires_in: Math.round((p.accessExp - at) / 1000),
    expires_at: new Date(p.accessExp).toISOString(),
    refresh_expires_at: new Date(p.refreshExp).toISOString(),
    user,
  });

  const audit = (s: IdentityStores, ctx: RequestContext, entry: AuditEntry) =>
    s.audit.insert(auditRow(ctx, entry, now()));

  /**
   * Exchanges a refresh token for a new pair (rotation), for a login (`client` null) or an
   * OAuth client: the token must have been issued to the same. Presenting a refresh token that
   * was already used revokes its whole session.
   */
  async function rotate(
    token: string,
    ctx: Omit<RequestContext, 'actor'>,
    client: { clientId: string; accessTtlSeconds: number; refreshTtlSeconds: number } | null,
  ) {
    const outcome = await transact(async (s) => {
      const at = now();
      const t = await s.identity.findToken(hashToken(token));
      if (
        !t ||
        t.kind !== 'refresh' ||
        t.session_revoked_at !== null ||
        t.user_disabled_at !== null ||
        t.session_client_id !== (client?.clientId ?? null)
      )
        return { kind: 'invalid' as const };
      const user = await s.identity.userById(t.user_id);
      if (!user) return { kind: 'invalid' as const };
      const actorCtx: RequestContext = {
        ...ctx,
        actor: {
          type: 'user',
          id: user.id,
          label: user.username,
          ...(client ? { via: client.clientId } : {}),
        },
      };
      if (t.used_at !== null || !(await s.identity.markTokenUsed(t.token_hash, at))) {
        await s.identity.revokeSession(t.session_id, at, 'refresh_token_reused');
        await audit(s, actorCtx, {
          action: 'auth.refresh_reuse_detected',
          resourceType: 'session',
          resourceId: t.session_id,
        });
        return { kind: 'reused' as const };
      }
      if (t.expires_at <= at) return { kind: 'invalid' as const };
      const pair = await issuePair(s, t.session_id, at, client ?? deps.tokens);
      await audit(s, actorCtx, {
        action: client ? 'oauth.refresh' : 'auth.refresh',
        resourceType: 'session',
        resourceId: t.session_id,
      });
      return { kind: 'ok' as const, pair, user, at };
    });
    if (outcome.kind === 'reused')
      throw new VigilError(
        'unauthenticated',
        'this refresh token was already used; its session has been revoked',
        { code: 'auth.refresh_reused' },
      );
    if (outcome.kind === 'invalid') throw INVALID_REFRESH();
    return outcome;
  }

  /** Opens a session for a checked user (through `clientId`, or a login when null). */
  async function openSession(
    user: UserRow,
    ctx: Omit<RequestContext, 'actor'>,
    clientId: string | null,
    ttl: TokenPolicy,
    action: string,
    withRefresh = true,
  ) {
    const actorCtx: RequestContext = {
      ...ctx,
      actor: {
        type: 'user',
        id: user.id,
        label: user.username,
        ...(clientId ? { via: clientId } : {}),
      },
    };
    return transact(async (s) => {
      const at = now();
      const sessionId = randomUUID();
      await s.identity.insertSession({
        id: sessionId,
        user_id: user.id,
        created_at: at,
        expires_at: at,
        revoked_at: null,
        revoked_reason: null,
        source_address: ctx.sourceAddress,
        client_id: clientId,
      });
      const pair = await issuePair(s, sessionId, at, ttl, withRefresh);
      await s.identity.setLastLogin(user.id, at);
      await audit(s, actorCtx, { action, resourceType: 'session', resourceId: sessionId });
      return { ...pair, at, sessionId };
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
        await this.createUser({ username: 'admin', password: pw, roles: ['admin'] }, ctx);
      } catch (err) {
        // Another process created it first.
        if (err instanceof VigilError && err.kind === 'conflict') return undefined;
        throw err;
      }
      return { password: pw, generated };
    },

    /**
     * Creates a local user holding the named roles.
     * @throws VigilError bad_data for a weak password or unknown role, conflict for a taken name.
     */
    async createUser(
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
      return transact(async (s) => {
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
        await audit(s, ctx, {
          action: 'user.create',
          resourceType: 'user',
          resourceId: user.id,
          detail: { username: user.username, email: user.email, roles: input.roles },
        });
        return summary(user, roles);
      });
    },

    /**
     * Checks a user name and password and opens a session. A wrong password, an unknown user and a
     * disabled user all fail the same way, in the same time.
     * @throws VigilError unauthenticated `auth.invalid_credentials`.
     */
    async login(
      input: { username: string; password: string; otp?: string },
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<TokenPair> {
      const user = await this.checkCredentials(input, ctx);
      const roles = await store.rolesOf(user.id);
      const opened = await openSession(user, ctx, null, deps.tokens, 'auth.login');
      return pairBody(
        { ...opened, refresh: opened.refresh!, refreshExp: opened.refreshExp! },
        summary({ ...user, last_login_at: opened.at }, roles),
        opened.at,
      );
    },

    /**
     * Checks a user name, password and (with TOTP on) one-time code, with failures throttled
     * and audited. A wrong password, an unknown user and a disabled user all fail the same way.
     * @throws VigilError unauthenticated `auth.invalid_credentials`, `auth.mfa_required`,
     * `auth.mfa_invalid`; too_many_requests `auth.too_many_attempts`.
     */
    async checkCredentials(
      input: { username: string; password: string; otp?: string },
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<UserRow> {
      // The attempt counts before its password is checked: concurrent guesses cannot all pass
      // the throttle while the first ones are still being verified.
      throttle.attempt(input.username, ctx.sourceAddress);
      const user = await store.userByName(input.username);
      const ok = await verifyPassword(user?.password_hash, input.password);
      if (!ok || !user || user.disabled_at !== null) {
        await transact((s) =>
          audit(
            s,
            {
              ...ctx,
              actor: { type: 'user', id: user?.id ?? null, label: input.username.slice(0, 128) },
            },
            { action: 'auth.login_failed', resourceType: 'user', resourceId: user?.id },
          ),
        );
        throw INVALID_CREDENTIALS();
      }
      if (user.mfa_enabled_at !== null && user.mfa_secret !== null) {
        const failMfa = async (code: string, message: string) => {
          // A missing code is a step of a normal login, not a guess.
          if (code === 'auth.mfa_required') throttle.forgive(input.username, ctx.sourceAddress);
          await transact((s) =>
            audit(
              s,
              { ...ctx, actor: { type: 'user', id: user.id, label: user.username } },
              {
                action: 'auth.login_failed',
                resourceType: 'user',
                resourceId: user.id,
                detail: { reason: code },
              },
            ),
          );
          throw new VigilError('unauthenticated', message, { code });
        };
        if (input.otp === undefined)
          await failMfa(
            'auth.mfa_required',
            'this account uses two-factor authentication: send the current code as `otp`',
          );
        const step = matchTotp(
          deps.sealer.open(user.mfa_secret),
          input.otp!,
          now(),
          user.mfa_last_step,
        );
        if (step === undefined || !(await store.useMfaStep(user.id, step)))
          await failMfa('auth.mfa_invalid', 'the one-time code is wrong, expired or already used');
      }
      throttle.succeeded(input.username, ctx.sourceAddress);
      return user;
    },

    /**
     * Runs the check of a secret (a signed-in user's password, an API client's secret) behind the
     * login throttle: the attempt is counted before `check` starts, atomically with the check of
     * the wait, and taken back off the count when `check` answers true.
     * @returns what `check` answered.
     * @throws VigilError too_many_requests `auth.too_many_attempts` (with `Retry-After`) while a
     * wait is on, without running `check`.
     */
    async throttledCheck(
      subject: ThrottleSubject,
      address: string | null,
      check: () => Promise<boolean>,
    ): Promise<boolean> {
      throttle.attempt(subject, address);
      const ok = await check();
      if (ok) throttle.succeeded(subject, address);
      return ok;
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
      return openSession(
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
      const r = await rotate(token, ctx, null);
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
    refreshForClient(
      token: string,
      client: { clientId: string; accessTtlSeconds: number; refreshTtlSeconds: number },
      ctx: Omit<RequestContext, 'actor'>,
    ) {
      return rotate(token, ctx, client);
    },

    /**
     * Revokes the session of a token issued to `clientId` (RFC 7009); tokens of other clients
     * and unknown ones are left alone, as the RFC has it. Audited when something was revoked.
     */
    async revokeForClient(
      token: string,
      clientId: string,
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<void> {
      await transact(async (s) => {
        const t = await s.identity.findToken(hashToken(token));
        if (!t || t.session_client_id !== clientId || t.session_revoked_at !== null) return;
        await s.identity.revokeSession(t.session_id, now(), 'oauth_revoke');
        const user = await s.identity.userById(t.user_id);
        await audit(
          s,
          {
            ...ctx,
            actor: { type: 'user', id: t.user_id, label: user?.username ?? null, via: clientId },
          },
          { action: 'oauth.revoke', resourceType: 'session', resourceId: t.session_id },
        );
      });
    },

    /** Revokes the caller's session: its access and refresh tokens stop working at once. */
    async logout(identity: Identity, ctx: RequestContext): Promise<void> {
      await transact(async (s) => {
        if (identity.kind === 'client') {
          // A machine client's token is its own session.
          await s.identity.revokeClientToken(
            identity.sessionId,
            identity.userId.slice(CLIENT_PREFIX.length),
            now(),
          );
          await audit(s, ctx, {
            action: 'oauth.revoke',
            resourceType: 'oauth_client',
            resourceId: identity.actor.id ?? undefined,
          });
          return;
        }
        await s.identity.revokeSession(identity.sessionId, now(), 'logout');
        await audit(s, ctx, {
          action: 'auth.logout',
          resourceType: 'session',
          resourceId: identity.sessionId,
        });
      });
    },

    /** Resolves a bearer access token to its identity; undefined for anything not currently valid. */
    async authenticate(
      token: string,
      kind: 'access' | 'cookie' = 'access',
    ): Promise<Identity | undefined> {
      if (kind === 'access' && token.startsWith(`${CLIENT_TOKEN_PREFIX}_`))
        return authenticateClient(token);
      const t = await store.findToken(hashToken(token));
      if (
        !t ||
        t.kind !== kind ||
        t.expires_at <= now() ||
        t.session_revoked_at !== null ||
        t.user_disabled_at !== null
      )
        return undefined;
      const user = await store.userById(t.user_id);
      if (!user) return undefined;
      const roles = await store.rolesOf(user.id);
      return {
        kind: 'user',
        userId: user.id,
        username: user.username,
        email: user.email,
        roles: roles.map((r) => r.name),
        grants: grantsOf(roles),
        sessionId: t.session_id,
        actor: {
          type: 'user',
          id: user.id,
          label: user.username,
          ...(t.session_client_id ? { via: t.session_client_id } : {}),
        },
        mustChangePassword: user.must_change_password === 1,
      };
    },

    /** Resolves a `vigil_session` cookie to its identity; undefined when not currently valid. */
    authenticateCookie(token: string): Promise<Identity | undefined> {
      return this.authenticate(token, 'cookie');
    },

    /**
     * Opens the browser session of a login: a cookie token in the session of `accessToken`,
     * living as long as its refresh token, and the CSRF token that goes with it.
     */
    async openCookie(
      accessToken: string,
    ): Promise<{ token: string; csrf: string; maxAgeSeconds: number }> {
      const t = await store.findToken(hashToken(accessToken));
      if (!t || t.kind !== 'access') throw new VigilError('unauthenticated', 'no such session');
      const token = newToken('vgs');
      const at = now();
      await store.insertToken({
        token_hash: hashToken(token),
        session_id: t.session_id,
        kind: 'cookie',
        created_at: at,
        expires_at: at + deps.tokens.refreshTtlSeconds * 1000,
        used_at: null,
      });
      return {
        token,
        csrf: this.csrfToken(t.session_id),
        maxAgeSeconds: deps.tokens.refreshTtlSeconds,
      };
    },

    /** The CSRF token of a session (double submit): an HMAC of its id under the instance key. */
    csrfToken(sessionId: string): string {
      return createHmac('sha256', deps.csrfKey).update(`csrf:${sessionId}`).digest('base64url');
    },

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
