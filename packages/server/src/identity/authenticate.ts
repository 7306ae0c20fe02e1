import { createHmac } from 'node:crypto';
import { VigilError } from '../errors.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import { grantsOfRoles } from './grants.js';
import {
  CLIENT_PREFIX,
  CLIENT_TOKEN_PREFIX,
  type Identity,
  type IdentityStore,
  type TokenPolicy,
} from './model.js';

/**
 * Authentication of requests: bearer access tokens (of a login, an OAuth client's session, or the
 * client_credentials grant), browser session cookies and their CSRF tokens.
 */
export function createAuthenticator(deps: {
  store: IdentityStore;
  tokens: TokenPolicy;
  now: () => number;
  /** Key of the CSRF tokens (the instance secret, shared by every server process). */
  csrfKey: Buffer;
}) {
  const { store, now } = deps;

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
      grants: grantsOfRoles(roles),
      sessionId: t.token_hash,
      actor: { type: 'oauth_client', id: t.client_row_id, label: t.client_id, via: t.client_id },
      mustChangePassword: false,
    };
  }

  /** Resolves a bearer access token to its identity; undefined for anything not currently valid. */
  async function authenticate(
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
      grants: grantsOfRoles(roles),
      sessionId: t.session_id,
      actor: {
        type: 'user',
        id: user.id,
        label: user.username,
        ...(t.session_client_id ? { via: t.session_client_id } : {}),
      },
      mustChangePassword: user.must_change_password === 1,
    };
  }

  /** The CSRF token of a session (double submit): an HMAC of its id under the instance key. */
  const csrfToken = (sessionId: string): string =>
    createHmac('sha256', deps.csrfKey).update(`csrf:${sessionId}`).digest('base64url');

  return {
    authenticate,

    /** Resolves a `vigil_session` cookie to its identity; undefined when not currently valid. */
    authenticateCookie(token: string): Promise<Identity | undefined> {
      return authenticate(token, 'cookie');
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
        csrf: csrfToken(t.session_id),
        maxAgeSeconds: deps.tokens.refreshTtlSeconds,
      };
    },

    csrfToken,
  };
}
