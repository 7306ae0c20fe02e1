import { LoginRequest, RefreshRequest, TokenPair, UserSummary } from '@vigil/protocol';
import { contextOf, identityOf } from '../http/context.js';
import { CSRF_COOKIE, SESSION_COOKIE } from '../http/authenticate.js';
import type { App } from '../http/server.js';
import type { IdentityService } from './service.js';

/** Login, token refresh, logout and the caller's profile. */
export function identityRoutes(app: App, deps: { identity: IdentityService }): void {
  const { identity } = deps;
  app.post(
    '/api/v1/auth/login',
    {
      config: { access: 'anonymous' },
      schema: {
        tags: ['auth'],
        summary:
          'Log in with a user name and password (and `otp` with TOTP on); returns an access and a refresh token, and sets the browser session cookie `vigil_session` (HttpOnly, SameSite=Strict, Secure over HTTPS) with its CSRF token in `vigil_csrf`.',
        body: LoginRequest,
        response: { 200: TokenPair },
      },
    },
    async (request, reply) => {
      const { actor: _unused, ...ctx } = contextOf(request);
      const pair = await identity.login(request.body, ctx);
      // The browser session: the same session as the tokens, in an HttpOnly cookie, with the
      // CSRF token in a cookie the page can read (double submit).
      const c = await identity.openCookie(pair.access_token);
      const secure = request.protocol === 'https' ? '; Secure' : '';
      void reply.header('set-cookie', [
        `${SESSION_COOKIE}=${c.token}; Path=/; Max-Age=${c.maxAgeSeconds}; HttpOnly; SameSite=Strict${secure}`,
        `${CSRF_COOKIE}=${c.csrf}; Path=/; Max-Age=${c.maxAgeSeconds}; SameSite=Strict${secure}`,
      ]);
      return pair;
    },
  );
  app.post(
    '/api/v1/auth/refresh',
    {
      config: { access: 'anonymous' },
      schema: {
        tags: ['auth'],
        summary:
          'Rotate a refresh token: the old one stops working; reusing it revokes the session.',
        body: RefreshRequest,
        response: { 200: TokenPair },
      },
    },
    async (request) => {
      const { actor: _unused, ...ctx } = contextOf(request);
      return identity.refresh(request.body.refresh_token, ctx);
    },
  );
  app.post(
    '/api/v1/auth/logout',
    {
      config: { access: 'authenticated', passwordChange: true },
      schema: {
        tags: ['auth'],
        summary: 'Revoke the calling session.',
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await identity.logout(identityOf(request), contextOf(request));
      const secure = request.protocol === 'https' ? '; Secure' : '';
      void reply.header('set-cookie', [
        `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict${secure}`,
        `${CSRF_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict${secure}`,
      ]);
      return reply.code(204).send();
    },
  );
  app.get(
    '/api/v1/auth/me',
    {
      config: { access: 'authenticated', passwordChange: true },
      schema: { tags: ['auth'], summary: 'The calling identity.', response: { 200: UserSummary } },
    },
    async (request) => identity.me(identityOf(request)),
  );
}
