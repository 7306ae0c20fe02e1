import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contextOf } from '../../http/context.js';
import type { App } from '../../http/server.js';
import { OAuthError, type OAuth } from '../../identity/oauth.js';

/** The client's id and secret: HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or the body. */
function clientOf(
  request: FastifyRequest,
  params: Record<string, string | undefined>,
): { id: string; secret: string } {
  const header = request.headers.authorization;
  const basic = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (header && !basic)
    throw new OAuthError('invalid_client', 'client authentication must be HTTP Basic');
  if (basic) {
    if (params.client_secret !== undefined)
      throw new OAuthError('invalid_request', 'use one client authentication method, not two');
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'malformed Basic credentials');
    try {
      const id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      const secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
      // Some libraries repeat client_id in the body with Basic; it must then name the same client.
      if (params.client_id !== undefined && params.client_id !== id)
        throw new OAuthError('invalid_client', 'client_id in the body names another client');
      return { id, secret };
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      throw new OAuthError('invalid_client', 'malformed Basic credentials');
    }
  }
  if (params.client_id && params.client_secret !== undefined)
    return { id: params.client_id, secret: params.client_secret };
  throw new OAuthError('invalid_client', 'client authentication is required');
}

/** The form's parameters; a parameter given twice is refused (RFC 6749 §3.1). */
function formOf(body: unknown): Record<string, string | undefined> {
  if (body === undefined || body === null) return {};
  if (body instanceof URLSearchParams) {
    const out: Record<string, string> = {};
    for (const [k, v] of body) {
      if (k in out) throw new OAuthError('invalid_request', `parameter ${k} is repeated`);
      out[k] = v;
    }
    return out;
  }
  throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
}

function sendError(reply: FastifyReply, err: OAuthError) {
  // A client that must wait gets 429, which HTTP clients retry after `Retry-After`; the body
  // stays RFC 6749 §5.2 JSON, so that OAuth libraries still read `error`.
  const status = err.status ?? (err.error === 'invalid_client' ? 401 : 400);
  if (status === 401) void reply.header('www-authenticate', 'Basic realm="vigil", charset="UTF-8"');
  if (err.retryAfterSeconds) void reply.header('retry-after', String(err.retryAfterSeconds));
  return reply.code(status).send({ error: err.error, error_description: err.description });
}

const noStore = (reply: FastifyReply) =>
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache');

/**
 * The Cockpit face: the OAuth 2.0 token endpoint (RFC 6749 password, refresh_token and
 * client_credentials grants, client authentication by HTTP Basic or in the body) and token revocation (RFC 7009). Errors
 * are RFC 6749 §5.2 JSON, never the native envelope.
 */
export function cockpitFace(app: App, deps: { oauth: OAuth }): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 16 * 1024 },
      (_request, body, done) => done(null, new URLSearchParams(body as string)),
    );
    const tags = ['oauth'];
    scope.post(
      '/oauth/token',
      {
        config: { access: 'anonymous', idempotency: false },
        schema: {
          tags,
          summary:
            'OAuth 2.0 token endpoint (form-encoded): `grant_type=password` (an operator whose role holds api:access), `refresh_token` (rotation) or `client_credentials` (the client itself with its roles; no refresh token), scope `public-api`; client by HTTP Basic or client_id/client_secret.',
          response: {
            200: Type.Object({
              access_token: Type.String(),
              token_type: Type.Literal('Bearer'),
              expires_in: Type.Integer(),
              refresh_token: Type.Optional(Type.String()),
              scope: Type.String(),
            }),
          },
        },
      },
      async (request, reply) => {
        noStore(reply);
        try {
          const params = formOf(request.body);
          const client = clientOf(request, params);
          const { actor: _unused, ...ctx } = contextOf(request);
          return await deps.oauth.token(client, params, ctx);
        } catch (err) {
          if (err instanceof OAuthError) return sendError(reply, err);
          throw err;
        }
      },
    );
    scope.post(
      '/oauth/revoke',
      {
        config: { access: 'anonymous', idempotency: false },
        schema: {
          tags,
          summary:
            'Token revocation (RFC 7009): `token` (access or refresh) of this client; its session ends. 200 also for unknown tokens.',
        },
      },
      async (request, reply) => {
        noStore(reply);
        try {
          const params = formOf(request.body);
          const client = clientOf(request, params);
          const { actor: _unused, ...ctx } = contextOf(request);
          await deps.oauth.revoke(client, params, ctx);
          // The body means nothing (RFC 7009 §2.2); an empty JSON object suits JSON clients.
          return reply.code(200).send({});
        } catch (err) {
          if (err instanceof OAuthError) return sendError(reply, err);
          throw err;
        }
      },
    );
  });
}
