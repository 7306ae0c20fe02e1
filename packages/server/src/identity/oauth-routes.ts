import { Type } from '@sinclair/typebox';
import { contextOf, identityOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { OAuth } from './oauth.js';

const Client = Type.Object(
  {
    id: Type.String(),
    client_id: Type.String(),
    description: Type.String(),
    scope: Type.String({ description: 'Always `public-api`.' }),
    access_token_ttl_seconds: Type.Integer(),
    refresh_token_ttl_seconds: Type.Integer(),
    allow_password: Type.Boolean(),
    allow_refresh_token: Type.Boolean(),
    allow_client_credentials: Type.Boolean({
      description: 'The client may use the client_credentials grant, acting as itself.',
    }),
    roles: Type.Array(Type.String(), {
      description: 'The roles it acts with under the client_credentials grant.',
    }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'OAuthClient' },
);
const Fields = {
  description: Type.Optional(Type.String({ maxLength: 500 })),
  access_token_ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 30 * 86_400 })),
  refresh_token_ttl_seconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 365 * 86_400 })),
  allow_password: Type.Optional(Type.Boolean()),
  allow_refresh_token: Type.Optional(Type.Boolean()),
  allow_client_credentials: Type.Optional(Type.Boolean()),
  roles: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      maxItems: 64,
      description:
        'Role names or ids (replacing the ones held); only roles whose permissions the caller holds.',
    }),
  ),
  scope: Type.Optional(
    Type.Literal('public-api', { description: 'The only scope there is; anything else is 400.' }),
  ),
};
const ClientId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._~-]+$' });
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

/** API access clients (the Cockpit face's OAuth 2.0 clients). */
export function oauthClientRoutes(app: App, deps: { oauth: OAuth }): void {
  const { oauth } = deps;
  const tags = ['oauth'];
  app.get(
    '/api/v1/oauth/clients',
    {
      config: { access: 'oauth:read' },
      schema: {
        tags,
        summary: 'List API access clients.',
        response: { 200: Type.Object({ clients: Type.Array(Client) }) },
      },
    },
    async () => ({ clients: await oauth.list() }),
  );
  app.post(
    '/api/v1/oauth/clients',
    {
      config: { access: 'oauth:write' },
      schema: {
        tags,
        summary:
          'Create an API access client: `client_id` (unique), optional `client_secret` (≥ 16 characters, ≥ 10 different ones, not mostly runs: else 400 `oauth.weak_secret`; when absent, generated), `scope` (`public-api`), token lifetimes, `allow_password`, `allow_refresh_token`, and for a machine client `allow_client_credentials` with its `roles`. The secret is in this answer only.',
        body: Type.Object(
          {
            client_id: ClientId,
            client_secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
            ...Fields,
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Intersect([Client, Type.Object({ client_secret: Type.String() })]),
        },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await oauth.create(request.body, contextOf(request), identityOf(request).grants)),
  );
  app.get(
    '/api/v1/oauth/clients/:id',
    {
      config: { access: 'oauth:read' },
      schema: {
        tags,
        summary: 'One API access client.',
        params: Params,
        response: { 200: Client },
      },
    },
    async (request) => oauth.get(request.params.id),
  );
  app.patch(
    '/api/v1/oauth/clients/:id',
    {
      config: { access: 'oauth:write' },
      schema: {
        tags,
        summary: 'Change an API access client (not its id or secret).',
        params: Params,
        body: Type.Object(
          {
            client_id: Type.Optional(ClientId),
            client_secret: Type.Optional(Type.String()),
            ...Fields,
          },
          { additionalProperties: false },
        ),
        response: { 200: Client },
      },
    },
    async (request) =>
      oauth.update(request.params.id, request.body, contextOf(request), identityOf(request).grants),
  );
  app.delete(
    '/api/v1/oauth/clients/:id',
    {
      config: { access: 'oauth:write' },
      schema: {
        tags,
        summary: 'Delete an API access client; every session opened through it ends (204).',
        params: Params,
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await oauth.remove(request.params.id, contextOf(request), identityOf(request).grants);
      return reply.code(204).send();
    },
  );
}
