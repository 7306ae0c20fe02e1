import type { FastifyRequest } from 'fastify';
import { permits } from '@vigil/protocol';
import { VigilError } from '../errors.js';
import type { Identity } from '../identity/model.js';
import { safeEqual } from '../secrets/tokens.js';

/** Resolves bearer tokens; the HTTP layer needs nothing else from identity. */
export interface Authenticator {
  authenticate(token: string): Promise<Identity | undefined>;
  /** The identity of a `vigil_session` cookie. */
  authenticateCookie(token: string): Promise<Identity | undefined>;
  /** The CSRF token cookie-authenticated mutations must send in `X-CSRF-Token`. */
  csrfToken(sessionId: string): string;
}

/** The browser session cookie, and the readable cookie carrying its CSRF token. */
export const SESSION_COOKIE = 'vigil_session';
export const CSRF_COOKIE = 'vigil_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The value of one cookie of a `Cookie` header. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return /^[\x21-\x7e]{1,512}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** The bearer token of an `Authorization` header, if it holds one. */
const bearerToken = (header: string | undefined): string | undefined => {
  const m = header ? /^Bearer[ ]+([\x21-\x7e]{1,512})\s*$/i.exec(header) : null;
  return m?.[1];
};

/**
 * The authentication of a request to a route that is neither anonymous nor an agent's: a bearer
 * token, else the session cookie (with its CSRF token on a change), then the route's permission
 * (`access`: `authenticated` or a permission of the registry). Sets `request.identity`.
 * @throws VigilError unauthenticated, or forbidden (CSRF, a password to change, a permission).
 */
export function createRequestAuthentication(
  authenticator: Authenticator,
): (request: FastifyRequest, access: string) => Promise<void> {
  return async (request: FastifyRequest, access: string): Promise<void> => {
    // A bearer token first (scripts); else the browser's session cookie.
    const token = bearerToken(request.headers.authorization);
    const cookie = token ? undefined : cookieValue(request.headers.cookie, SESSION_COOKIE);
    const identity = token
      ? await authenticator.authenticate(token)
      : cookie
        ? await authenticator.authenticateCookie(cookie)
        : undefined;
    if (identity && cookie && !SAFE_METHODS.has(request.method)) {
      // A cookie goes with every request the browser makes, wherever the page came from: a
      // change must also prove it was sent by a page of this server.
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !safeEqual(sent, authenticator.csrfToken(identity.sessionId)))
        throw new VigilError(
          'forbidden',
          'a change made with the session cookie needs the X-CSRF-Token header (the vigil_csrf cookie)',
          { code: 'auth.csrf_invalid' },
        );
    }
    if (!identity)
      throw new VigilError(
        'unauthenticated',
        token || cookie
          ? 'the access token or session is invalid, expired or revoked'
          : 'authentication required',
        {
          code: token || cookie ? 'auth.invalid_token' : 'auth.unauthenticated',
          headers: { 'www-authenticate': 'Bearer realm="vigil"' },
        },
      );
    request.identity = identity;
    if (identity.mustChangePassword && request.routeOptions.config?.passwordChange !== true)
      throw new VigilError(
        'forbidden',
        'the password was reset by an administrator: change it first (POST /api/v1/auth/password:change)',
        { code: 'auth.password_change_required' },
      );
    if (access !== 'authenticated' && !permits(identity.grants, access))
      throw new VigilError('forbidden', `this operation requires the permission ${access}`, {
        code: 'auth.forbidden',
      });
  };
}
