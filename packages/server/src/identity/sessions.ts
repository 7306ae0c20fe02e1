import { randomUUID } from 'node:crypto';
import type { TokenPair, UserSummary } from '@vigil/protocol';
import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { hashToken, newToken } from '../secrets/tokens.js';
import {
  CLIENT_PREFIX,
  type Identity,
  type IdentityStores,
  type TokenPolicy,
  type UserRow,
} from './model.js';

const INVALID_REFRESH = () =>
  new VigilError('unauthenticated', 'the refresh token is invalid or expired', {
    code: 'auth.refresh_invalid',
  });

/** The tokens of a session just opened or rotated, with their expiry times (epoch ms). */
export interface IssuedPair {
  access: string;
  refresh: string | undefined;
  accessExp: number;
  refreshExp: number | undefined;
}

/** The lifetimes of an OAuth client's tokens, and its public `client_id`. */
export interface ClientTokenPolicy {
  clientId: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

/** The answer of a login or refresh: the pair and the user, `at` the time of issue. */
export const pairBody = (
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

/**
 * Sessions and their bearer tokens: opening a session, rotating refresh tokens, revoking a
 * session (logout, RFC 7009). Every change is audited in the transaction that makes it.
 */
export function createSessions(deps: {
  audited: Audited<IdentityStores>;
  tokens: TokenPolicy;
  now: () => number;
}) {
  const { audited, now } = deps;

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
  ): Promise<IssuedPair> {
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

  /**
   * Exchanges a refresh token for a new pair (rotation), for a login (`client` null) or an
   * OAuth client: the token must have been issued to the same. Presenting a refresh token that
   * was already used revokes its whole session.
   */
  async function rotate(
    token: string,
    ctx: Omit<RequestContext, 'actor'>,
    client: ClientTokenPolicy | null,
  ) {
    const outcome = await audited(
      { ...ctx, actor: { type: 'user', id: null, label: null } },
      { action: client ? 'oauth.refresh' : 'auth.refresh', resourceType: 'session' },
      async (s, draft) => {
        const at = now();
        const t = await s.identity.findToken(hashToken(token));
        const invalid = () => {
          draft.skip();
          return { kind: 'invalid' as const };
        };
        if (
          !t ||
          t.kind !== 'refresh' ||
          t.session_revoked_at !== null ||
          t.user_disabled_at !== null ||
          t.session_client_id !== (client?.clientId ?? null)
        )
          return invalid();
        const user = await s.identity.userById(t.user_id);
        if (!user) return invalid();
        draft.ctx = {
          ...ctx,
          actor: {
            type: 'user',
            id: user.id,
            label: user.username,
            ...(client ? { via: client.clientId } : {}),
          },
        };
        draft.entry.resourceId = t.session_id;
        if (t.used_at !== null || !(await s.identity.markTokenUsed(t.token_hash, at))) {
          await s.identity.revokeSession(t.session_id, at, 'refresh_token_reused');
          draft.entry.action = 'auth.refresh_reuse_detected';
          return { kind: 'reused' as const };
        }
        if (t.expires_at <= at) return invalid();
        const pair = await issuePair(s, t.session_id, at, client ?? deps.tokens);
        return { kind: 'ok' as const, pair, user, at };
      },
    );
    if (outcome.kind === 'reused')
      throw new VigilError(
        'unauthenticated',
        'this refresh token was already used; its session has been revoked',
        { code: 'auth.refresh_reused' },
      );
    if (outcome.kind === 'invalid') throw INVALID_REFRESH();
    return outcome;
  }

  return {
    rotate,

    /** Opens a session for a checked user (through `clientId`, or a login when null). */
    openSession(
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
      return audited(actorCtx, { action, resourceType: 'session' }, async (s, draft) => {
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
        draft.entry.resourceId = sessionId;
        return { ...pair, at, sessionId };
      });
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
      await audited(
        { ...ctx, actor: { type: 'user', id: null, label: null, via: clientId } },
        { action: 'oauth.revoke', resourceType: 'session' },
        async (s, draft) => {
          const t = await s.identity.findToken(hashToken(token));
          if (!t || t.session_client_id !== clientId || t.session_revoked_at !== null)
            return draft.skip();
          await s.identity.revokeSession(t.session_id, now(), 'oauth_revoke');
          const user = await s.identity.userById(t.user_id);
          draft.ctx = {
            ...ctx,
            actor: { type: 'user', id: t.user_id, label: user?.username ?? null, via: clientId },
          };
          draft.entry.resourceId = t.session_id;
        },
      );
    },

    /** Revokes the caller's session: its access and refresh tokens stop working at once. */
    async logout(identity: Identity, ctx: RequestContext): Promise<void> {
      if (identity.kind === 'client') {
        // A machine client's token is its own session.
        await audited(
          ctx,
          {
            action: 'oauth.revoke',
            resourceType: 'oauth_client',
            resourceId: identity.actor.id ?? undefined,
          },
          (s) =>
            s.identity.revokeClientToken(
              identity.sessionId,
              identity.userId.slice(CLIENT_PREFIX.length),
              now(),
            ),
        );
        return;
      }
      await audited(
        ctx,
        { action: 'auth.logout', resourceType: 'session', resourceId: identity.sessionId },
        (s) => s.identity.revokeSession(identity.sessionId, now(), 'logout'),
      );
    },
  };
}

/** The session service's type. */
export type Sessions = ReturnType<typeof createSessions>;
