import { LoginRequest, RefreshRequest, TokenPair, UserSummary } from '@vigil/protocol';
import { contextOf, identityOf } from '../http/context.js';
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
        summary: 'Log in with a user name and password; returns an access and a refresh token.',
        body: LoginRequest,
        response: { 200: TokenPair },
      },
    },
    async (request) => {
      const { actor: _unused, ...ctx } = contextOf(request);
      return identity.login(request.body, ctx);
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
