import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { CredentialService } from './service.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const NStr = Nullable(Type.String());
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Scope = StringEnum(['system', 'host']);
const Method = StringEnum(['ssh_key', 'password', 'both']);
/** A path id: no colon, so that `{id}:clone` reaches its route. */
const ID = '(^[^:/]+)';
const Secret = (max: number) => Type.String({ minLength: 1, maxLength: max });

const Credential = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: NStr,
    scope: Scope,
    host_id: NStr,
    username: Type.String(),
    auth_method: Method,
    ssh_key_fingerprint: Nullable(
      Type.String({ description: 'As `ssh-keygen -l` shows it: `SHA256:` and unpadded base64.' }),
    ),
    ssh_key_type: Nullable(Type.String({ description: 'ED25519, RSA, ECDSA or DSA.' })),
    ssh_key_bits: Nullable(Type.Integer()),
    has_private_key: Type.Boolean(),
    has_passphrase: Type.Boolean(),
    has_password: Type.Boolean(),
    is_default: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Credential' },
);

const Resolution = Type.Object(
  {
    host_id: Type.String(),
    source: StringEnum(['host', 'system_default'], {
      description: "host: the host's own credential; system_default: the system default.",
    }),
    credential: Credential,
  },
  { title: 'CredentialResolution' },
);

const Fields = {
  name: Type.String({ minLength: 1, maxLength: 128 }),
  description: Nullable(Type.String({ maxLength: 4096 })),
  username: Type.String({ minLength: 1, maxLength: 128 }),
  auth_method: Method,
  private_key: Nullable(Secret(65_536)),
  private_key_passphrase: Nullable(Secret(1024)),
  password: Nullable(Secret(1024)),
  is_default: Type.Boolean(),
};

/** SSH credentials for agentless access: secrets go in, never come out. */
export function credentialRoutes(app: App, deps: { credentials: CredentialService }): void {
  const tags = ['credentials'];
  const { credentials } = deps;

  app.get(
    '/api/v1/credentials',
    {
      config: { access: 'credentials:read' },
      schema: {
        tags,
        summary: 'Every credential, newest first; `scope` and `host_id` filter. Never a secret.',
        querystring: Type.Object({
          scope: Type.Optional(Scope),
          host_id: Type.Optional(Id),
        }),
        response: { 200: Type.Object({ items: Type.Array(Credential), total: Type.Integer() }) },
      },
    },
    async (request) => credentials.list(request.query),
  );

  app.post(
    '/api/v1/credentials',
    {
      config: { access: 'credentials:write' },
      schema: {
        tags,
        summary:
          'Create a credential. Secrets are sealed at rest with the master key; a private key that does not parse, or that its passphrase does not open, is 400 `credential.invalid_key`. `is_default` makes it the one default of its scope (of its host, for a host credential).',
        body: Type.Object(
          {
            name: Fields.name,
            description: Type.Optional(Fields.description),
            scope: Scope,
            host_id: Type.Optional(Nullable(Id)),
            username: Fields.username,
            auth_method: Fields.auth_method,
            private_key: Type.Optional(Fields.private_key),
            private_key_passphrase: Type.Optional(Fields.private_key_passphrase),
            password: Type.Optional(Fields.password),
            is_default: Type.Optional(Fields.is_default),
          },
          { additionalProperties: false },
        ),
        response: { 201: Credential },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await credentials.create(contextOf(request), request.body)),
  );

  app.get(
    `/api/v1/credentials/:id${ID}`,
    {
      config: { access: 'credentials:read' },
      schema: {
        tags,
        summary: 'One credential. Never a secret.',
        params: Type.Object({ id: Id }),
        response: { 200: Credential },
      },
    },
    async (request) => credentials.get(request.params.id),
  );

  app.patch(
    `/api/v1/credentials/:id${ID}`,
    {
      config: { access: 'credentials:write' },
      schema: {
        tags,
        summary:
          'Change a credential; a secret given null is removed. The result must still have what its auth_method needs.',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            name: Type.Optional(Fields.name),
            description: Type.Optional(Fields.description),
            username: Type.Optional(Fields.username),
            auth_method: Type.Optional(Fields.auth_method),
            private_key: Type.Optional(Fields.private_key),
            private_key_passphrase: Type.Optional(Fields.private_key_passphrase),
            password: Type.Optional(Fields.password),
            is_default: Type.Optional(Fields.is_default),
          },
          { additionalProperties: false },
        ),
        response: { 200: Credential },
      },
    },
    async (request) => credentials.update(contextOf(request), request.params.id, request.body),
  );

  app.delete(
    `/api/v1/credentials/:id${ID}`,
    {
      config: { access: 'credentials:write' },
      schema: {
        tags,
        summary: 'Delete a credential.',
        params: Type.Object({ id: Id }),
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await credentials.remove(contextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    `/api/v1/credentials/:id${ID}::clone`,
    {
      config: { access: 'credentials:write' },
      schema: {
        tags,
        summary:
          'Copy a credential to a new scope or host; its secrets are copied on the server (they never travel). The copy is not a default.',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            name: Type.Optional(Fields.name),
            scope: Scope,
            host_id: Type.Optional(Nullable(Id)),
          },
          { additionalProperties: false },
        ),
        response: { 201: Credential },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await credentials.clone(contextOf(request), request.params.id, request.body)),
  );

  app.post(
    '/api/v1/hosts/:host_id/credentials::resolve',
    {
      // OpenWatch's permission for it: the answer names the credential, never its secret.
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          'Which credential a host uses: its own (its default, else its newest) before the system default; never the secret. 404 `credential.unresolved` when there is none.',
        params: Type.Object({ host_id: Id }),
        response: { 200: Resolution },
      },
    },
    async (request) => credentials.resolve(contextOf(request), request.params.host_id),
  );
}
