import { permits } from '@vigil/protocol';
import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { hashToken, newToken, safeEqual } from '../secrets/tokens.js';
import { CLIENT_TOKEN_PREFIX, type IdentityStore } from './model.js';
import {
  createOAuthClients,
  PUBLIC_API_SCOPE,
  type ClientRow,
  type OAuthClientStore,
  type OAuthStores,
} from './oauth-clients.js';
import type { IdentityService } from './service.js';

/** The permission an operator's role needs to use the API through a client. */
export const API_ACCESS = 'api:access';

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
  const audited = createAudited(deps.transact, now);

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
        c = await clients.byClientId(clientId);
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
    ...createOAuthClients({
      clients,
      identityStore: deps.identityStore,
      audited,
      now,
    }),

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
        const roles = await deps.identityStore.rolesOf(user.id);
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
