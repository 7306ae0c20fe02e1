import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './errors.js';

/** Response of `GET /api/v1/health` (OpenWatch shape). */
export const Health = Type.Object(
  {
    status: StringEnum(['healthy', 'degraded']),
    db_connected: Type.Boolean(),
    version: Type.String(),
  },
  { title: 'Health' },
);
export type Health = Static<typeof Health>;

/** Response of `GET /health` (Tyto shape); `uptime` is in seconds. */
export const TytoHealth = Type.Object(
  {
    status: StringEnum(['ok', 'error']),
    version: Type.String(),
    uptime: Type.Integer({ minimum: 0, description: 'Seconds since the server started.' }),
  },
  { title: 'TytoHealth' },
);
export type TytoHealth = Static<typeof TytoHealth>;

/** Response of `GET /api/v1/version`: build metadata. */
export const VersionInfo = Type.Object(
  {
    vigil: Type.String(),
    openwatch: Type.String({
      description: "Vigil's version again, under the name OpenWatch clients read it by.",
    }),
    node: Type.String(),
    commit: Type.String(),
    build_time: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'VersionInfo' },
);
export type VersionInfo = Static<typeof VersionInfo>;

/** Body of `POST /api/v1/auth/login`. */
export const LoginRequest = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    otp: Type.Optional(Type.String({ pattern: '^[0-9]{6}$' })),
  },
  { additionalProperties: false, title: 'LoginRequest' },
);
export type LoginRequest = Static<typeof LoginRequest>;

/** The calling user as `/api/v1/auth/me` and login describe it (OpenWatch and Tyto fields). */
export const UserSummary = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    role: Type.String({ description: 'The first of the user’s roles (OpenWatch).' }),
    roles: Type.Array(Type.String(), { description: 'Every role the user holds (Tyto).' }),
    permissions: Type.Array(Type.String(), { description: 'Grants held through those roles.' }),
    auth_provider: Type.String(),
    last_login: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    must_change_password: Type.Boolean({
      description:
        'An administrator reset the password: until it is changed, only the password change, `/auth/me` and logout are allowed.',
    }),
    mfa_enabled: Type.Boolean({ description: 'Whether sign-in asks for a TOTP code.' }),
  },
  { title: 'UserSummary' },
);
export type UserSummary = Static<typeof UserSummary>;

/**
 * Response of login and refresh: the union of the OpenWatch shape (`access_token`,
 * `refresh_token`, `user`) and the Tyto shape (`token`, `expires_at`, `user`).
 */
export const TokenPair = Type.Object(
  {
    access_token: Type.String(),
    refresh_token: Type.String(),
    token: Type.String({ description: 'The access token again (Tyto).' }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the access token expires.' }),
    expires_at: Type.String({ format: 'date-time' }),
    refresh_expires_at: Type.String({ format: 'date-time' }),
    user: UserSummary,
  },
  { title: 'TokenPair' },
);
export type TokenPair = Static<typeof TokenPair>;

/** Body of `POST /api/v1/auth/refresh`. */
export const RefreshRequest = Type.Object(
  { refresh_token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false, title: 'RefreshRequest' },
);
export type RefreshRequest = Static<typeof RefreshRequest>;

/** Kinds of actor an audit event can name. */
export const ActorType = StringEnum(['user', 'oauth_client', 'agent', 'system']);
export type ActorType = Static<typeof ActorType>;

/** One audit event. `detail` never carries secrets; keys removed from it are in `redactions`. */
export const AuditEvent = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    occurred_at: Type.String({ format: 'date-time' }),
    actor_type: ActorType,
    actor_id: Type.Union([Type.String(), Type.Null()]),
    actor_label: Type.Union([Type.String(), Type.Null()]),
    actor_client: Type.Union([Type.String(), Type.Null()], {
      description: 'The OAuth API client the user acted through (Cockpit face), else null.',
    }),
    action: Type.String(),
    resource_type: Type.Union([Type.String(), Type.Null()]),
    resource_id: Type.Union([Type.String(), Type.Null()]),
    correlation_id: Type.Union([Type.String(), Type.Null()]),
    source_address: Type.Union([Type.String(), Type.Null()]),
    detail: Type.Record(Type.String(), Type.Unknown()),
    redactions: Type.Array(Type.String()),
  },
  { title: 'AuditEvent' },
);
export type AuditEvent = Static<typeof AuditEvent>;

/** Query of `GET /api/v1/audit/events`. */
export const AuditQuery = Type.Object(
  {
    action: Type.Optional(Type.String({ maxLength: 128 })),
    correlation_id: Type.Optional(Type.String({ maxLength: 128 })),
    actor_type: Type.Optional(ActorType),
    resource_type: Type.Optional(Type.String({ maxLength: 128 })),
    resource_id: Type.Optional(Type.String({ maxLength: 256 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

/** A page of audit events, newest first; follow `next_cursor` until it is null. */
export const AuditPage = Type.Object(
  {
    items: Type.Array(AuditEvent),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
  },
  { title: 'AuditPage' },
);
export type AuditPage = Static<typeof AuditPage>;

/** A user as the user administration endpoints show it (Tyto and OpenWatch fields). */
export const UserView = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    role: Type.String({ description: 'The first of the user’s roles (OpenWatch).' }),
    roles: Type.Array(Type.String(), { description: 'Names of the roles held (Tyto).' }),
    role_ids: Type.Array(Type.String()),
    auth_provider: Type.String(),
    disabled: Type.Boolean(),
    disabled_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    must_change_password: Type.Boolean(),
    mfa_enabled: Type.Boolean({ description: 'Whether logins need a TOTP code.' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    last_login: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { title: 'User' },
);
export type UserView = Static<typeof UserView>;

const Username = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._@-]+$' });
const Email = Type.Union([
  Type.String({ maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' }),
  Type.Null(),
]);
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const RoleRefs = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
  maxItems: 64,
  description: 'Role names or ids.',
});

/** Body of `POST /api/v1/users`. */
export const CreateUserRequest = Type.Object(
  {
    username: Username,
    email: Type.Optional(Email),
    password: Password,
    roles: Type.Optional(RoleRefs),
    must_change_password: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, title: 'CreateUserRequest' },
);
export type CreateUserRequest = Static<typeof CreateUserRequest>;

/** Body of `PATCH`/`PUT /api/v1/users/{id}`: the fields to change (`roles` replaces them all). */
export const UpdateUserRequest = Type.Object(
  { email: Type.Optional(Email), roles: Type.Optional(RoleRefs) },
  { additionalProperties: false, title: 'UpdateUserRequest' },
);
export type UpdateUserRequest = Static<typeof UpdateUserRequest>;

/** A role (Tyto and OpenWatch fields). */
export const RoleView = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    permissions: Type.Array(Type.String()),
    is_system: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { title: 'Role' },
);
export type RoleView = Static<typeof RoleView>;

/** Body of `POST /api/v1/roles` (and `roles:create`). */
export const CreateRoleRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    permissions: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 256 }),
  },
  { additionalProperties: false, title: 'CreateRoleRequest' },
);
export type CreateRoleRequest = Static<typeof CreateRoleRequest>;

/** Body of `PUT /api/v1/roles/{id}`: the fields to change. */
export const UpdateRoleRequest = Type.Partial(CreateRoleRequest, {
  additionalProperties: false,
  title: 'UpdateRoleRequest',
});
export type UpdateRoleRequest = Static<typeof UpdateRoleRequest>;

/** Body of password changes by the user (`current_password`) or resets by an administrator. */
export const PasswordChangeRequest = Type.Object(
  { current_password: Password, new_password: Password },
  { additionalProperties: false, title: 'PasswordChangeRequest' },
);
export type PasswordChangeRequest = Static<typeof PasswordChangeRequest>;
