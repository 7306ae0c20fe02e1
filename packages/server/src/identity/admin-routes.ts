import { Type } from '@sinclair/typebox';
import {
  CreateRoleRequest,
  CreateUserRequest,
  PERMISSIONS,
  PasswordChangeRequest,
  RoleView,
  SYSTEM_ROLES,
  UpdateRoleRequest,
  UpdateUserRequest,
  UserView,
  effectivePermissions,
} from '@vigil/protocol';
import { VigilError } from '../errors.js';
import { contextOf, identityOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { UserAdmin } from './admin.js';

/** A user or role id in a path: no `:` or `/` (an `:action` may follow). */
const ID = '(^[^:/]+)';
const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const RoleRef = Type.Object(
  { role_id: Type.String({ minLength: 1, maxLength: 128, description: 'Role id or name.' }) },
  { additionalProperties: false },
);
const NewPassword = Type.Object(
  { new_password: Type.String({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);
const ResetAnswer = Type.Object({
  user: UserView,
  temporary_password: Type.Optional(
    Type.String({ description: 'The generated password (when none was given), shown once.' }),
  ),
});

/** `new_password` from an optional body `{new_password}`. @throws VigilError bad_data. */
function optionalNewPassword(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const ok =
    typeof body === 'object' &&
    !Array.isArray(body) &&
    Object.keys(body).every((k) => k === 'new_password') &&
    ['string', 'undefined'].includes(typeof (body as { new_password?: unknown }).new_password);
  if (!ok)
    throw new VigilError('bad_data', 'the body must be empty or {"new_password": "…"}', {
      code: 'validation_failed',
    });
  return (body as { new_password?: string }).new_password;
}

/** Users and roles (Tyto and OpenWatch), permissions, and the caller's own account. */
export function userAdminRoutes(app: App, deps: { admin: UserAdmin }): void {
  const { admin } = deps;
  const users = ['users'];
  const roles = ['roles'];
  const auth = ['auth'];

  app.get(
    '/api/v1/users',
    {
      config: { access: 'users:read' },
      schema: {
        tags: users,
        summary: 'List users.',
        response: { 200: Type.Object({ users: Type.Array(UserView) }) },
      },
    },
    async () => ({ users: await admin.listUsers() }),
  );
  app.post(
    '/api/v1/users',
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary: 'Create a local user (`roles`: names or ids).',
        body: CreateUserRequest,
        response: { 201: UserView },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await admin.createUser(request.body, contextOf(request), identityOf(request).grants)),
  );
  app.get(
    `/api/v1/users/:id${ID}`,
    {
      config: { access: 'users:read' },
      schema: {
        tags: users,
        summary: 'One user.',
        params: UserParams,
        response: { 200: UserView },
      },
    },
    async (request) => admin.getUser(request.params.id),
  );
  for (const method of ['patch', 'put'] as const)
    app[method](
      `/api/v1/users/:id${ID}`,
      {
        config: { access: 'users:write' },
        schema: {
          tags: users,
          summary:
            'Change a user: `email`, and/or `roles` (names or ids, replacing the ones held).',
          params: UserParams,
          body: UpdateUserRequest,
          response: { 200: UserView },
        },
      },
      async (request) =>
        admin.updateUser(
          request.params.id,
          request.body,
          contextOf(request),
          identityOf(request).grants,
        ),
    );
  app.delete(
    `/api/v1/users/:id${ID}`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary:
          'Disable a user (soft delete, as Tyto): no more logins, and their sessions and tokens stop working at once.',
        params: UserParams,
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await admin.disableUser(request.params.id, contextOf(request), identityOf(request).grants);
      return reply.code(204).send();
    },
  );
  app.post(
    `/api/v1/users/:id${ID}::disable`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary: 'Disable a user; their sessions and tokens stop working at once.',
        params: UserParams,
        response: { 200: UserView },
      },
    },
    async (request) =>
      admin.disableUser(request.params.id, contextOf(request), identityOf(request).grants),
  );
  app.post(
    `/api/v1/users/:id${ID}::enable`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary: 'Enable a disabled user.',
        params: UserParams,
        response: { 200: UserView },
      },
    },
    async (request) =>
      admin.enableUser(request.params.id, contextOf(request), identityOf(request).grants),
  );
  app.put(
    `/api/v1/users/:id${ID}/password`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary:
          'Reset a user’s password (Tyto); the user must change it at the next login, and their sessions end.',
        params: UserParams,
        body: NewPassword,
        response: { 200: ResetAnswer },
      },
    },
    async (request) =>
      admin.resetPassword(
        request.params.id,
        request.body.new_password,
        contextOf(request),
        identityOf(request).grants,
      ),
  );
  app.post(
    `/api/v1/users/:id${ID}::reset-password`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary:
          'Reset a user’s password: to `new_password`, or to a generated one returned once. The user must change it at the next login; their sessions end.',
        params: UserParams,
        // The body is optional (`{new_password}` or nothing), which a schema cannot say here.
        response: { 200: ResetAnswer },
      },
    },
    async (request) =>
      admin.resetPassword(
        request.params.id,
        optionalNewPassword(request.body),
        contextOf(request),
        identityOf(request).grants,
      ),
  );
  app.post(
    `/api/v1/users/:id${ID}/roles::assign`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary: 'Give a user a role.',
        params: UserParams,
        body: RoleRef,
        response: { 200: UserView },
      },
    },
    async (request) =>
      admin.assignRole(
        request.params.id,
        request.body.role_id,
        contextOf(request),
        identityOf(request).grants,
      ),
  );
  app.post(
    `/api/v1/users/:id${ID}/roles::unassign`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary: 'Take a role from a user.',
        params: UserParams,
        body: RoleRef,
        response: { 200: UserView },
      },
    },
    async (request) =>
      admin.unassignRole(
        request.params.id,
        request.body.role_id,
        contextOf(request),
        identityOf(request).grants,
      ),
  );

  app.get(
    '/api/v1/roles',
    {
      config: { access: 'roles:read' },
      schema: {
        tags: roles,
        summary: 'List roles, built-in and custom.',
        response: { 200: Type.Object({ roles: Type.Array(RoleView) }) },
      },
    },
    async () => ({ roles: await admin.listRoles() }),
  );
  for (const url of ['/api/v1/roles', '/api/v1/roles::create'])
    app.post(
      url,
      {
        config: { access: 'roles:write' },
        schema: {
          tags: roles,
          summary:
            'Create a custom role. Permissions are registry names or patterns (`*`, `domain:*`, `*:action`).',
          body: CreateRoleRequest,
          response: { 201: RoleView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await admin.createRole(request.body, contextOf(request), identityOf(request).grants),
          ),
    );
  app.get(
    `/api/v1/roles/:id${ID}`,
    {
      config: { access: 'roles:read' },
      schema: {
        tags: roles,
        summary: 'One role (by id or name).',
        params: UserParams,
        response: { 200: RoleView },
      },
    },
    async (request) => admin.getRole(request.params.id),
  );
  app.put(
    `/api/v1/roles/:id${ID}`,
    {
      config: { access: 'roles:write' },
      schema: {
        tags: roles,
        summary: 'Change a custom role (built-in roles: 409).',
        params: UserParams,
        body: UpdateRoleRequest,
        response: { 200: RoleView },
      },
    },
    async (request) =>
      admin.updateRole(
        request.params.id,
        request.body,
        contextOf(request),
        identityOf(request).grants,
      ),
  );
  app.delete(
    `/api/v1/roles/:id${ID}`,
    {
      config: { access: 'roles:write' },
      schema: {
        tags: roles,
        summary: 'Delete a custom role no user holds (built-in roles, or one in use: 409).',
        params: UserParams,
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await admin.deleteRole(request.params.id, contextOf(request), identityOf(request).grants);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/auth/permissions::registry',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: auth,
        summary: 'Every permission with its description, and the built-in roles.',
        response: {
          200: Type.Object({
            permissions: Type.Array(
              Type.Object({ name: Type.String(), description: Type.String() }),
            ),
            roles: Type.Array(
              Type.Object({
                name: Type.String(),
                description: Type.String(),
                permissions: Type.Array(Type.String()),
              }),
            ),
          }),
        },
      },
    },
    async () => ({
      permissions: PERMISSIONS.map((p) => ({ name: p.name, description: p.description })),
      roles: SYSTEM_ROLES.map((r) => ({
        name: r.name,
        description: r.description,
        permissions: [...r.grants],
      })),
    }),
  );
  app.get(
    '/api/v1/auth/me/permissions',
    {
      config: { access: 'authenticated', passwordChange: true },
      schema: {
        tags: auth,
        summary: 'The caller’s effective permissions (patterns expanded against the registry).',
        response: {
          200: Type.Object({
            permissions: Type.Array(Type.String()),
            grants: Type.Array(Type.String()),
          }),
        },
      },
    },
    async (request) => {
      const grants = identityOf(request).grants;
      return { permissions: effectivePermissions(grants), grants: [...grants] };
    },
  );
  app.put(
    '/api/v1/auth/me',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: auth,
        summary: 'Change the caller’s own e-mail address.',
        body: Type.Pick(UpdateUserRequest, ['email'], { additionalProperties: false }),
        response: { 200: UserView },
      },
    },
    async (request) =>
      admin.updateMe(
        identityOf(request),
        { email: request.body.email ?? null },
        contextOf(request),
      ),
  );
  for (const [method, url] of [
    ['put', '/api/v1/auth/me/password'],
    ['post', '/api/v1/auth/password::change'],
  ] as const)
    app[method](
      url,
      {
        config: { access: 'authenticated', passwordChange: true },
        schema: {
          tags: auth,
          summary: 'Change the caller’s own password; every other session of theirs ends (204).',
          body: PasswordChangeRequest,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await admin.changePassword(identityOf(request), request.body, contextOf(request));
        return reply.code(204).send();
      },
    );
  app.post(
    '/api/v1/auth/mfa::enroll',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: auth,
        summary:
          'Begin TOTP enrollment: a new secret as an otpauth:// `provisioning_uri` (and `secret`), active once confirmed with mfa:verify.',
        response: {
          200: Type.Object({ provisioning_uri: Type.String(), secret: Type.String() }),
        },
      },
    },
    async (request) => admin.mfaEnroll(identityOf(request), contextOf(request)),
  );
  app.post(
    '/api/v1/auth/mfa::verify',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: auth,
        summary:
          'Confirm the enrolled secret with a current code `{otp}`; from then on login needs `otp`.',
        body: Type.Object(
          { otp: Type.String({ pattern: '^[0-9]{6}$' }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ mfa_enabled: Type.Boolean() }) },
      },
    },
    async (request) => admin.mfaVerify(identityOf(request), request.body.otp, contextOf(request)),
  );
  app.post(
    `/api/v1/users/:id${ID}::reset-mfa`,
    {
      config: { access: 'users:write' },
      schema: {
        tags: users,
        summary: 'Turn a user’s two-factor authentication off (a lost authenticator).',
        params: UserParams,
        response: { 200: UserView },
      },
    },
    async (request) =>
      admin.resetMfa(request.params.id, contextOf(request), identityOf(request).grants),
  );
  app.post(
    '/api/v1/auth/register',
    {
      config: { access: 'anonymous' },
      schema: {
        tags: auth,
        summary:
          'Self-registration as a viewer, only when `auth.allow_registration` is on (else 403 `auth.registration_disabled`).',
        body: Type.Pick(CreateUserRequest, ['username', 'password', 'email'], {
          additionalProperties: false,
        }),
        response: { 201: UserView },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await admin.register(request.body, contextOf(request))),
  );
}
