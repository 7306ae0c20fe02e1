import { randomBytes, randomUUID } from 'node:crypto';
import { permits } from '@vigil/protocol';
import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import type { Database } from '../db/schema.js';
import { VigilError } from '../errors.js';
import { hashToken, newToken, safeEqual } from '../secrets/tokens.js';
import { checkMayGrant, grantsOfRoles } from './grants.js';
import {
  CLIENT_TOKEN_PREFIX,
  type IdentityStore,
  type IdentityStores,
  type RoleRow,
} from './model.js';
import { checkName } from './names.js';
import type { IdentityService } from './service.js';

/** The one scope of the public API (Cockpit: "a value that cannot be modified"). */
export const PUBLIC_API_SCOPE = 'public-api';
/** The permission an operator's role needs to use the API through a client. */
export const API_ACCESS = 'api:access';

type ClientRow = Database['oauth_clients'];

/** Queries of the API clients. Lookups return undefined when absent; they never throw. */
export interface OAuthClientStore {
  byId(id: string): Promise<ClientRow | undefined>;
  byClientId(clientId: string): Promise<ClientRow | undefined>;
  /** Every client, by `client_id`. */
  list(): Promise<ClientRow[]>;
  insert(row: ClientRow): Promise<void>;
  update(id: string, patch: Partial<Omit<ClientRow, 'id'>>): Promise<void>;
  delete(id: string): Promise<void>;
  /** Revokes every open session opened through the client `clientId` (its public id). */
  revokeSessions(clientId: string, atMs: number, reason: string): Promise<void>;
}

/** The stores a unit of work of the API clients sees; each is bound to the same transaction. */
export interface OAuthStores extends IdentityStores {
  clients: OAuthClientStore;
}

/** An API access client as the API shows it (never its secret). */
export interface ClientView {
  id: string;
  client_id: string;
  description: string;
  scope: string;
  access_token_ttl_seconds: number;
  refresh_token_ttl_seconds: number;
  allow_password: boolean;
  allow_refresh_token: boolean;
  /** The client may use the client_credentials grant, acting as itself with `roles`. */
  allow_client_credentials: boolean;
  /** The roles the client acts with under the client_credentials grant (names). */
  roles: string[];
  created_at: string;
  updated_at: string;
}

/** The shortest client secret Vigil accepts from an administrator. */
export const MIN_CLIENT_SECRET_LENGTH = 16;
/** The fewest distinct characters a client secret chosen by an administrator must hold. */
export const MIN_CLIENT_SECRET_DISTINCT = 10;

/**
 * Returns why a client secret chosen by an administrator is too easy to guess, or undefined when
 * it is fine: shorter than 16 characters, fewer than 10 distinct characters, or mostly runs
 * (`aaaa`, `abcd`, `4321`: more than half of its neighbouring pairs repeat a character or step to
 * the next one). A secret Vigil generates (32 random bytes, base64url) always passes.
 */
export function clientSecretProblem(secret: string): string | undefined {
  const chars = [...secret];
  if (chars.length < MIN_CLIENT_SECRET_LENGTH)
    return `client_secret must be at least ${MIN_CLIENT_SECRET_LENGTH} characters`;
  if (new Set(chars).size < MIN_CLIENT_SECRET_DISTINCT)
    return `client_secret must hold at least ${MIN_CLIENT_SECRET_DISTINCT} different characters`;
  let runs = 0;
  for (let i = 1; i < chars.length; i++)
    if (Math.abs(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!) <= 1) runs += 1;
  if (runs * 2 > chars.length - 1)
    return 'client_secret must not be made of repeated or consecutive characters';
  return undefined;
}

export interface ClientInput {
  client_id?: string;
  /**
   * A secret chosen by the administrator (see `clientSecretProblem`); else one is generated.
   */
  client_secret?: string;
  description?: string;
  access_token_ttl_seconds?: number;
  refresh_token_ttl_seconds?: number;
  allow_password?: boolean;
  allow_refresh_token?: boolean;
  allow_client_credentials?: boolean;
  /** Role names or ids, replacing the ones the client holds. */
  roles?: string[];
  /** Only `public-api`, the one scope there is. */
  scope?: string;
}

const view = (c: ClientRow, roles: RoleRow[]): ClientView => ({
  id: c.id,
  client_id: c.client_id,
  description: c.description,
  scope: c.scope,
  access_token_ttl_seconds: c.access_token_ttl_seconds,
  refresh_token_ttl_seconds: c.refresh_token_ttl_seconds,
  allow_password: c.allow_password === 1,
  allow_refresh_token: c.allow_refresh_token === 1,
  allow_client_credentials: c.allow_client_credentials === 1,
  roles: roles.map((r) => r.name),
  created_at: new Date(c.created_at).toISOString(),
  updated_at: new Date(c.updated_at).toISOString(),
});

/**
 * The grants a client is allowed, as the audit log records them (the `allow_*` flags themselves
 * would be taken for secrets by the log's redaction, their names holding `pass` and `credential`).
 */
const grantTypes = (c: ClientRow): string[] => [
  ...(c.allow_password === 1 ? ['password'] : []),
  ...(c.allow_refresh_token === 1 ? ['refresh_token'] : []),
  ...(c.allow_client_credentials === 1 ? ['client_credentials'] : []),
];

/** A machine client as the audit log names it when it acts as itself. */
const clientActor = (c: ClientRow) =>
  ({ type: 'oauth_client', id: c.id, label: c.client_id, via: c.client_id }) as const;

/** An error of the token endpoint, answered as RFC 6749 §5.2 says. */
export class OAuthError extends Error {
  constructor(
    readonly error:
      | 'invalid_request'
      | 'invalid_client'
      | 'invalid_grant'
      | 'unauthorized_client'
      | 'unsupported_grant_type'
      | 'invalid_scope',
    readonly description: string,
    readonly retryAfterSeconds?: number,
    /** The HTTP status, when not the RFC's (429 for a client that must wait). */
    readonly status?: 429,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

/** A successful token answer (RFC 6749 §5.1). */
export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

/**
 * OAuth 2.0 API clients (the Cockpit face): their administration, and the token endpoint's
 * `password`, `refresh_token` and `client_credentials` grants. Tokens of the first two act with
 * exactly the operator's permissions, in a session marked with the client, so that the audit log
 * names both. A token of the third acts as the client itself (a service identity, audited as
 * actor `oauth_client`) with the roles given to the client, and comes without a refresh token
 * (RFC 6749 §4.4.3).
 */
export function createOAuth(deps: {
  clients: OAuthClientStore;
  identityStore: IdentityStore;
  transact: Transact<OAuthStores>;
  identity: IdentityService;
  now: () => number;
}) {
  const { clients, identity, now } = deps;
  const store = deps.identityStore;
  const audited = createAudited(deps.transact, now);

  const byId = (id: string) => clients.byId(id);
  const byClientId = (clientId: string) => clients.byClientId(clientId);
  const viewOf = async (c: ClientRow) => view(c, await store.rolesOfClient(c.id));

  /**
   * Resolves role names or ids, refusing unknown ones, and roles granting what the caller itself
   * does not hold (an administrator cannot hand a client more than they hold).
   * @throws VigilError bad_data `role.unknown`, forbidden `role.escalation`.
   */
  async function rolesFor(refs: string[], callerGrants: readonly string[]): Promise<RoleRow[]> {
    const out = new Map<string, RoleRow>();
    for (const ref of refs) {
      const role = (await store.roleById(ref)) ?? (await store.roleByName(ref));
      if (!role) throw new VigilError('bad_data', `unknown role ${ref}`, { code: 'role.unknown' });
      out.set(role.id, role);
    }
    for (const role of out.values())
      checkMayGrant(
        callerGrants,
        JSON.parse(role.permissions) as string[],
        `the role ${role.name}`,
      );
    return [...out.values()];
  }

  /**
   * Refuses any change to a client whose roles grant what the caller does not hold: turning on
   * one of its grants would hand its roles out, and changing it at all is managing an identity
   * stronger than the caller.
   * @throws VigilError forbidden `role.escalation`.
   */
  async function checkMayManage(c: ClientRow, callerGrants: readonly string[]): Promise<void> {
    const roles = await store.rolesOfClient(c.id);
    checkMayGrant(callerGrants, grantsOfRoles(roles), `the API client ${c.client_id}`);
  }

  function checkClientScope(scope: string | undefined) {
    if (scope !== undefined && scope !== PUBLIC_API_SCOPE)
      throw new VigilError('bad_data', `scope must be ${PUBLIC_API_SCOPE}, the only scope`, {
        code: 'oauth.scope_invalid',
      });
  }

  /**
   * Authenticates a client by its id and secret, behind the login throttle (per client id and
   * per address): past five failures for one client id, each further attempt waits, doubling,
   * whatever the secret. Unknown client ids are counted and answered the same way. A failure is
   * audited (`oauth.client_auth_failed`).
   * @throws OAuthError invalid_client (401), or invalid_client with status 429 and
   * `retryAfterSeconds` while a wait is on.
   */
  async function authenticateClient(
    clientId: string,
    secret: string,
    ctx: Omit<RequestContext, 'actor'>,
  ): Promise<ClientRow> {
    let c: ClientRow | undefined;
    let ok: boolean;
    try {
      ok = await identity.throttledCheck({ client: clientId }, ctx.sourceAddress, async () => {
        c = await byClientId(clientId);
        // The hash is compared whether or not the client exists, in constant time.
        const same = safeEqual(
          hashToken(secret),
          c?.secret_hash ?? hashToken(`absent:${clientId}`),
        );
        return same && c !== undefined;
      });
    } catch (err) {
      if (err instanceof VigilError && err.kind === 'too_many_requests') {
        const wait = Number(err.headers?.['retry-after'] ?? 1);
        throw new OAuthError(
          'invalid_client',
          `too many failed client authentications: retry after ${wait} s`,
          wait,
          429,
        );
      }
      throw err;
    }
    if (!ok || !c) {
      await audited(
        {
          ...ctx,
          actor: { type: 'oauth_client', id: c?.id ?? null, label: clientId.slice(0, 128) },
        },
        { action: 'oauth.client_auth_failed', resourceType: 'oauth_client', resourceId: c?.id },
        async () => undefined,
      );
      throw new OAuthError('invalid_client', 'client authentication failed');
    }
    return c;
  }

  function checkScope(scope: string | undefined) {
    if (scope === undefined || scope === '') return;
    const asked = scope.split(' ').filter(Boolean);
    if (asked.some((s) => s !== PUBLIC_API_SCOPE))
      throw new OAuthError('invalid_scope', `the only scope is ${PUBLIC_API_SCOPE}`);
  }

  /**
   * The client_credentials grant (RFC 6749 §4.4): an access token for the client itself, with
   * the client's lifetime, and no refresh token (§4.4.3).
   */
  async function clientCredentials(
    c: ClientRow,
    ctx: Omit<RequestContext, 'actor'>,
  ): Promise<TokenAnswer> {
    if (c.allow_client_credentials !== 1)
      throw new OAuthError(
        'unauthorized_client',
        'this client may not use the client_credentials grant',
      );
    const token = newToken(CLIENT_TOKEN_PREFIX);
    const at = now();
    await audited(
      { ...ctx, actor: clientActor(c) },
      {
        action: 'oauth.token',
        resourceType: 'oauth_client',
        resourceId: c.id,
        detail: { client_id: c.client_id, grant_type: 'client_credentials' },
      },
      async (s) => {
        await s.identity.pruneClientTokens(c.id, at);
        await s.identity.insertClientToken({
          token_hash: hashToken(token),
          client_row_id: c.id,
          created_at: at,
          expires_at: at + c.access_token_ttl_seconds * 1000,
          revoked_at: null,
        });
      },
    );
    return {
      access_token: token,
      token_type: 'Bearer',
      expires_in: c.access_token_ttl_seconds,
      scope: PUBLIC_API_SCOPE,
    };
  }

  return {
    async list(): Promise<ClientView[]> {
      return Promise.all((await clients.list()).map(viewOf));
    },

    async get(id: string): Promise<ClientView> {
      const c = await byId(id);
      if (!c) throw new VigilError('not_found', `no API client ${id}`, { code: 'oauth.not_found' });
      return viewOf(c);
    },

    /** Creates a client; its secret is in the answer once, and stored only as a hash. */
    async create(
      input: ClientInput & { client_id: string },
      ctx: RequestContext,
      callerGrants: readonly string[] = [],
    ): Promise<ClientView & { client_secret: string }> {
      checkName(input.client_id, 'client_id');
      checkClientScope(input.scope);
      if (input.client_secret !== undefined) {
        const problem = clientSecretProblem(input.client_secret);
        if (problem) throw new VigilError('bad_data', problem, { code: 'oauth.weak_secret' });
      }
      const roles = await rolesFor(input.roles ?? [], callerGrants);
      if (await byClientId(input.client_id))
        throw new VigilError('conflict', `an API client ${input.client_id} exists`, {
          code: 'oauth.client_exists',
        });
      const secret = input.client_secret ?? randomBytes(32).toString('base64url');
      const at = now();
      const row: ClientRow = {
        id: randomUUID(),
        client_id: input.client_id,
        secret_hash: hashToken(secret),
        description: input.description ?? '',
        scope: PUBLIC_API_SCOPE,
        access_token_ttl_seconds: input.access_token_ttl_seconds ?? 3600,
        refresh_token_ttl_seconds: input.refresh_token_ttl_seconds ?? 14 * 86_400,
        allow_password: input.allow_password === false ? 0 : 1,
        allow_refresh_token: input.allow_refresh_token === false ? 0 : 1,
        allow_client_credentials: input.allow_client_credentials === true ? 1 : 0,
        created_at: at,
        updated_at: at,
      };
      await audited(
        ctx,
        {
          action: 'oauth.client_create',
          resourceType: 'oauth_client',
          resourceId: row.id,
          detail: {
            client_id: row.client_id,
            grant_types: grantTypes(row),
            roles: roles.map((r) => r.name),
          },
        },
        async (s) => {
          await s.clients.insert(row);
          await s.identity.setClientRoles(
            row.id,
            roles.map((r) => r.id),
          );
        },
      );
      return { ...view(row, roles), client_secret: secret };
    },

    async update(
      id: string,
      input: ClientInput,
      ctx: RequestContext,
      callerGrants: readonly string[] = [],
    ): Promise<ClientView> {
      checkClientScope(input.scope);
      const c = await byId(id);
      if (!c) throw new VigilError('not_found', `no API client ${id}`, { code: 'oauth.not_found' });
      await checkMayManage(c, callerGrants);
      if (input.client_secret !== undefined)
        throw new VigilError('bad_data', 'the secret cannot be changed; create another client', {
          code: 'oauth.secret_fixed',
        });
      if (input.client_id !== undefined && input.client_id !== c.client_id)
        throw new VigilError('bad_data', 'client_id cannot be changed; create another client', {
          code: 'oauth.client_id_fixed',
        });
      const patch: Partial<ClientRow> = { updated_at: now() };
      if (input.description !== undefined) patch.description = input.description;
      if (input.access_token_ttl_seconds !== undefined)
        patch.access_token_ttl_seconds = input.access_token_ttl_seconds;
      if (input.refresh_token_ttl_seconds !== undefined)
        patch.refresh_token_ttl_seconds = input.refresh_token_ttl_seconds;
      if (input.allow_password !== undefined) patch.allow_password = input.allow_password ? 1 : 0;
      if (input.allow_refresh_token !== undefined)
        patch.allow_refresh_token = input.allow_refresh_token ? 1 : 0;
      if (input.allow_client_credentials !== undefined)
        patch.allow_client_credentials = input.allow_client_credentials ? 1 : 0;
      const roles =
        input.roles === undefined ? undefined : await rolesFor(input.roles, callerGrants);
      await audited(
        ctx,
        { action: 'oauth.client_update', resourceType: 'oauth_client', resourceId: id },
        async (s, draft) => {
          const before = new Set((await s.identity.rolesOfClient(id)).map((r) => r.id));
          const rolesChanged =
            roles !== undefined &&
            (roles.length !== before.size || roles.some((r) => !before.has(r.id)));
          const grantOff = c.allow_client_credentials === 1 && patch.allow_client_credentials === 0;
          await s.clients.update(id, patch);
          if (roles)
            await s.identity.setClientRoles(
              id,
              roles.map((r) => r.id),
            );
          // A token issued before the change must not outlive it: turning the grant back on, or
          // giving the old roles back, must not revive it.
          const revoked =
            rolesChanged || grantOff ? await s.identity.revokeClientTokens(id, now()) : 0;
          draft.entry.detail = {
            ...input,
            grant_types: grantTypes({ ...c, ...patch }),
            ...(roles ? { roles: roles.map((r) => r.name) } : {}),
            client_id: c.client_id,
            // How many live tokens the change revoked (a key naming tokens would be redacted).
            revoked,
          };
        },
      );
      return viewOf({ ...c, ...patch });
    },

    /** Deletes a client; the sessions opened through it end at once. */
    async remove(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[] = [],
    ): Promise<void> {
      const c = await byId(id);
      if (!c) throw new VigilError('not_found', `no API client ${id}`, { code: 'oauth.not_found' });
      await checkMayManage(c, callerGrants);
      await audited(
        ctx,
        {
          action: 'oauth.client_delete',
          resourceType: 'oauth_client',
          resourceId: id,
          detail: { client_id: c.client_id },
        },
        async (s) => {
          await s.clients.revokeSessions(c.client_id, now(), 'oauth_client_deleted');
          await s.clients.delete(id);
        },
      );
    },

    /**
     * The token endpoint (RFC 6749 §4.3, §4.4 and §6).
     * @throws OAuthError with the RFC's error code.
     */
    async token(
      client: { id: string; secret: string },
      params: Record<string, string | undefined>,
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<TokenAnswer> {
      const c = await authenticateClient(client.id, client.secret, ctx);
      const grant = params.grant_type;
      if (!grant) throw new OAuthError('invalid_request', 'grant_type is required');
      if (grant !== 'password' && grant !== 'refresh_token' && grant !== 'client_credentials')
        throw new OAuthError(
          'unsupported_grant_type',
          'grant_type must be password, refresh_token or client_credentials',
        );
      checkScope(params.scope);
      if (grant === 'client_credentials') return clientCredentials(c, ctx);
      const ttl = {
        clientId: c.client_id,
        accessTtlSeconds: c.access_token_ttl_seconds,
        refreshTtlSeconds: c.refresh_token_ttl_seconds,
      };
      if (grant === 'password') {
        if (c.allow_password !== 1)
          throw new OAuthError('unauthorized_client', 'this client may not use the password grant');
        if (!params.username || params.password === undefined)
          throw new OAuthError('invalid_request', 'username and password are required');
        let user;
        try {
          user = await identity.checkCredentials(
            {
              username: params.username,
              password: params.password,
              ...(params.otp ? { otp: params.otp } : {}),
            },
            ctx,
          );
        } catch (err) {
          if (err instanceof VigilError && err.kind === 'too_many_requests')
            throw new OAuthError(
              'invalid_grant',
              'too many failed attempts: wait before trying again',
              Number(err.headers?.['retry-after'] ?? 1),
            );
          if (err instanceof VigilError && err.kind === 'unauthenticated')
            throw new OAuthError('invalid_grant', err.message);
          throw err;
        }
        const roles = await store.rolesOf(user.id);
        const grants = roles.flatMap((r) => JSON.parse(r.permissions) as string[]);
        if (!permits(grants, API_ACCESS))
          throw new OAuthError(
            'invalid_grant',
            `the operator's roles do not allow API access (${API_ACCESS})`,
          );
        const s = await identity.openClientSession(
          user,
          { ...ttl, refreshTtlSeconds: c.allow_refresh_token === 1 ? ttl.refreshTtlSeconds : null },
          ctx,
        );
        return {
          access_token: s.access,
          token_type: 'Bearer',
          expires_in: c.access_token_ttl_seconds,
          ...(s.refresh ? { refresh_token: s.refresh } : {}),
          scope: PUBLIC_API_SCOPE,
        };
      }
      if (c.allow_refresh_token !== 1)
        throw new OAuthError('unauthorized_client', 'this client may not refresh tokens');
      if (!params.refresh_token)
        throw new OAuthError('invalid_request', 'refresh_token is required');
      try {
        const r = await identity.refreshForClient(params.refresh_token, ttl, ctx);
        return {
          access_token: r.pair.access,
          token_type: 'Bearer',
          expires_in: c.access_token_ttl_seconds,
          ...(r.pair.refresh ? { refresh_token: r.pair.refresh } : {}),
          scope: PUBLIC_API_SCOPE,
        };
      } catch (err) {
        if (err instanceof VigilError && err.kind === 'unauthenticated')
          throw new OAuthError('invalid_grant', err.message);
        throw err;
      }
    },

    /** Token revocation (RFC 7009). @throws OAuthError invalid_client / invalid_request. */
    async revoke(
      client: { id: string; secret: string },
      params: Record<string, string | undefined>,
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<void> {
      const c = await authenticateClient(client.id, client.secret, ctx);
      if (!params.token) throw new OAuthError('invalid_request', 'token is required');
      if (params.token.startsWith(`${CLIENT_TOKEN_PREFIX}_`)) {
        await audited(
          { ...ctx, actor: clientActor(c) },
          {
            action: 'oauth.revoke',
            resourceType: 'oauth_client',
            resourceId: c.id,
            detail: { client_id: c.client_id, grant_type: 'client_credentials' },
          },
          async (s, draft) => {
            const revoked = await s.identity.revokeClientToken(
              hashToken(params.token!),
              c.id,
              now(),
            );
            if (!revoked) draft.skip();
          },
        );
        return;
      }
      await identity.revokeForClient(params.token, c.client_id, ctx);
    },
  };
}

export type OAuth = ReturnType<typeof createOAuth>;
