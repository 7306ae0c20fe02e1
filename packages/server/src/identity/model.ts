import type { UserSummary } from '@vigil/protocol';
import type { Actor, AuditStore } from '../audit/service.js';
import type { Database } from '../db/schema.js';
import { VigilError } from '../errors.js';
import { grantsOfRoles } from './grants.js';

/** A user row. */
export type UserRow = Database['users'];
/** A role row. */
export type RoleRow = Database['roles'];

/** A live token with its session and user, as authentication needs it. */
export interface TokenLookup {
  token_hash: string;
  kind: 'access' | 'refresh' | 'cookie';
  expires_at: number;
  used_at: number | null;
  session_id: string;
  session_revoked_at: number | null;
  /** The OAuth client the session belongs to; null for a login. */
  session_client_id: string | null;
  user_id: string;
  user_disabled_at: number | null;
}

/** A client_credentials access token with its client, as authentication needs it. */
export interface ClientTokenLookup {
  token_hash: string;
  expires_at: number;
  revoked_at: number | null;
  /** The client's row id (`oauth_clients.id`). */
  client_row_id: string;
  /** The client's public `client_id`. */
  client_id: string;
  allow_client_credentials: number;
}

/** Queries of the identity domain. Lookups return undefined when absent; they never throw. */
export interface IdentityStore {
  countUsers(): Promise<number>;
  userByName(username: string): Promise<UserRow | undefined>;
  userById(id: string): Promise<UserRow | undefined>;
  insertUser(row: Database['users']): Promise<void>;
  setLastLogin(userId: string, atMs: number): Promise<void>;
  rolesOf(userId: string): Promise<RoleRow[]>;
  roleByName(name: string): Promise<RoleRow | undefined>;
  upsertSystemRole(row: Database['roles']): Promise<void>;
  assignRole(userId: string, roleId: string): Promise<void>;
  insertSession(row: Database['sessions']): Promise<void>;
  extendSession(id: string, expiresAt: number): Promise<void>;
  insertToken(row: Database['session_tokens']): Promise<void>;
  findToken(hash: string): Promise<TokenLookup | undefined>;
  /** Marks a refresh token used; returns false when it was already used (a concurrent reuse). */
  markTokenUsed(hash: string, atMs: number): Promise<boolean>;
  revokeSession(id: string, atMs: number, reason: string): Promise<void>;
  /** Records a TOTP step as used if it is after the last one; false when it is not (reuse). */
  useMfaStep(userId: string, step: number): Promise<boolean>;
  /** Revokes every open session of a user but `keep`; returns how many. */
  revokeUserSessions(userId: string, atMs: number, reason: string, keep?: string): Promise<number>;
  listUsers(): Promise<UserRow[]>;
  /** The roles of each of the users, by user id. */
  rolesOfUsers(userIds: string[]): Promise<Map<string, RoleRow[]>>;
  updateUser(id: string, patch: Partial<Omit<UserRow, 'id'>>): Promise<void>;
  listRoles(): Promise<RoleRow[]>;
  roleById(id: string): Promise<RoleRow | undefined>;
  insertRole(row: RoleRow): Promise<void>;
  updateRole(id: string, patch: Partial<Omit<RoleRow, 'id'>>): Promise<void>;
  deleteRole(id: string): Promise<void>;
  unassignRole(userId: string, roleId: string): Promise<void>;
  /** Users (enabled or not) holding a role. */
  holdersOf(roleId: string): Promise<{ id: string; disabled_at: number | null }[]>;
  /** The `client_id`s of the OAuth clients holding a role. */
  clientHoldersOf(roleId: string): Promise<string[]>;
  /** The roles a machine client acts with, by its row id. */
  rolesOfClient(clientRowId: string): Promise<RoleRow[]>;
  /** Replaces the roles of a machine client. */
  setClientRoles(clientRowId: string, roleIds: string[]): Promise<void>;
  insertClientToken(row: Database['oauth_client_tokens']): Promise<void>;
  findClientToken(hash: string): Promise<ClientTokenLookup | undefined>;
  /** Deletes the tokens of a client that expired before `atMs`. */
  pruneClientTokens(clientRowId: string, atMs: number): Promise<void>;
  /** Revokes every live token of a client; returns how many. */
  revokeClientTokens(clientRowId: string, atMs: number): Promise<number>;
  /** Revokes one live token of a client; false when there was none. */
  revokeClientToken(hash: string, clientRowId: string, atMs: number): Promise<boolean>;
}

/** The stores a unit of work sees; each is bound to the same transaction. */
export interface IdentityStores {
  identity: IdentityStore;
  audit: AuditStore;
}

/** An authenticated caller: a user, or a machine client (the client_credentials grant). */
export interface Identity {
  /** `user`, or `client` for a machine client acting as itself with its own roles. */
  readonly kind: 'user' | 'client';
  /** The user's id; for a machine client, `oauth_client:` and the client's row id. */
  readonly userId: string;
  /** The user name; for a machine client, its `client_id`. */
  readonly username: string;
  readonly email: string | null;
  readonly roles: readonly string[];
  /** Permission grants (possibly patterns) from every role held. */
  readonly grants: readonly string[];
  /** The session; for a machine client, the hash of its access token. */
  readonly sessionId: string;
  readonly actor: Actor;
  /** An administrator reset the password: only changing it (and logging out) is allowed. */
  readonly mustChangePassword: boolean;
}

/** Lifetimes of issued tokens, in seconds. */
export interface TokenPolicy {
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

/** An epoch-millisecond time as ISO 8601, or null. */
export const iso = (ms: number | null): string | null =>
  ms === null ? null : new Date(ms).toISOString();

/** A user as the login and profile answers show them, with the grants of their roles. */
export function summary(user: UserRow, roles: RoleRow[]): UserSummary {
  const names = roles.map((r) => r.name);
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    role: names[0] ?? '',
    roles: names,
    permissions: grantsOfRoles(roles),
    auth_provider: user.auth_provider,
    last_login: iso(user.last_login_at),
    must_change_password: user.must_change_password === 1,
    mfa_enabled: user.mfa_enabled_at !== null,
  };
}

/** The prefix of the access tokens of the client_credentials grant. */
export const CLIENT_TOKEN_PREFIX = 'vgc';
/** How a machine client's `Identity.userId` begins; its row id follows. */
export const CLIENT_PREFIX = 'oauth_client:';

/**
 * Refuses what only a user account can do (its profile, password, two-factor setup) to a machine
 * client. @throws VigilError forbidden `auth.not_a_user`.
 */
export function notAMachine(identity: Identity): void {
  if (identity.kind === 'client')
    throw new VigilError('forbidden', 'a machine client has no user account', {
      code: 'auth.not_a_user',
    });
}
