import { randomBytes, randomUUID } from 'node:crypto';
import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import type { Database } from '../db/schema.js';
import { VigilError } from '../errors.js';
import { hashToken } from '../secrets/tokens.js';
import { checkMayGrant, grantsOfRoles } from './grants.js';
import type { IdentityStore, IdentityStores, RoleRow } from './model.js';
import { checkName } from './names.js';

/** The one scope of the public API (Cockpit: "a value that cannot be modified"). */
export const PUBLIC_API_SCOPE = 'public-api';
/** An API client's row. */
export type ClientRow = Database['oauth_clients'];

/** Queries of the API clients. Lookups return undefined when absent; they never throw. */
export interface OAuthClientStore {
  byId(id: string): Promise<ClientRow | undefined>;
  byClientId(clientId: string): Promise<ClientRow | undefined>;
  /** Every client, by `client_id`. */
  list(): Promise<ClientRow[]>;
  insert(row: ClientRow): Promise<void>;
  update(id: string, patch: Partial<Omit<ClientRow, 'id'>>): Promise<void>;
  delete(id: string): Promise<void>;
  /** Revokes every open session opened through the client `clientId` (its public id). */
  revokeSessions(clientId: string, atMs: number, reason: string): Promise<void>;
}

/** The stores a unit of work of the API clients sees; each is bound to the same transaction. */
export interface OAuthStores extends IdentityStores {
  clients: OAuthClientStore;
}

/** An API access client as the API shows it (never its secret). */
export interface ClientView {
  id: string;
  client_id: string;
  description: string;
  scope: string;
  access_token_ttl_seconds: number;
  refresh_token_ttl_seconds: number;
  allow_password: boolean;
  allow_refresh_token: boolean;
  /** The client may use the client_credentials grant, acting as itself with `roles`. */
  allow_client_credentials: boolean;
  /** The roles the client acts with under the client_credentials grant (names). */
  roles: string[];
  created_at: string;
  updated_at: string;
}

/** The shortest client secret Vigil accepts from an administrator. */
export const MIN_CLIENT_SECRET_LENGTH = 16;
/** The fewest distinct characters a client secret chosen by an administrator must hold. */
export const MIN_CLIENT_SECRET_DISTINCT = 10;

/**
 * Returns why a client secret chosen by an administrator is too easy to guess, or undefined when
 * it is fine: shorter than 16 characters, fewer than 10 distinct characters, or mostly runs
 * (`aaaa`, `abcd`, `4321`: more than half of its neighbouring pairs repeat a character or step to
 * the next one). A secret Vigil generates (32 random bytes, base64url) always passes.
 */
export function clientSecretProblem(secret: string): string | undefined {
  const chars = [...secret];
  if (chars.length < MIN_CLIENT_SECRET_LENGTH)
    return `client_secret must be at least ${MIN_CLIENT_SECRET_LENGTH} characters`;
  if (new Set(chars).size < MIN_CLIENT_SECRET_DISTINCT)
    return `client_secret must hold at least ${MIN_CLIENT_SECRET_DISTINCT} different characters`;
  let runs = 0;
  for (let i = 1; i < chars.length; i++)
    if (Math.abs(chars[i]!.codePointAt(0)! - chars[i - 1]!.codePointAt(0)!) <= 1) runs += 1;
  if (runs * 2 > chars.length - 1)
    return 'client_secret must not be made of repeated or consecutive characters';
  return undefined;
}

export interface ClientInput {
  client_id?: string;
  /**
   * A secret chosen by the administrator (see `clientSecretProblem`); else one is generated.
   */
  client_secret?: string;
  description?: string;
  access_token_ttl_seconds?: number;
  refresh_token_ttl_seconds?: number;
  allow_password?: boolean;
  allow_refresh_token?: boolean;
  allow_client_credentials?: boolean;
  /** Role names or ids, replacing the ones the client holds. */
  roles?: string[];
  /** Only `public-api`, the one scope there is. */
  scope?: string;
}

const view = (c: ClientRow, roles: RoleRow[]): ClientView => ({
  id: c.id,
  client_id: c.client_id,
  description: c.description,
  scope: c.scope,
  access_token_ttl_seconds: c.access_token_ttl_seconds,
  refresh_token_ttl_seconds: c.refresh_token_ttl_seconds,
  allow_password: c.allow_password === 1,
  allow_refresh_token: c.allow_refresh_token === 1,
  allow_client_credentials: c.allow_client_credentials === 1,
  roles: roles.map((r) => r.name),
  created_at: new Date(c.created_at).toISOString(),
  updated_at: new Date(c.updated_at).toISOString(),
});

/**
 * The grants a client is allowed, as the audit log records them (the `allow_*` flags themselves
 * would be taken for secrets by the log's redaction, their names holding `pass` and `credential`).
 */
const grantTypes = (c: ClientRow): string[] => [
  ...(c.allow_password === 1 ? ['password'] : []),
  ...(c.allow_refresh_token === 1 ? ['refresh_token'] : []),
  ...(c.allow_client_credentials === 1 ? ['client_credentials'] : []),
];

/**
 * The administration of OAuth 2.0 API clients: listing, creating, changing and deleting them.
 * Every change is audited in its transaction; a caller may hand a client only roles that grant
 * no more than it holds itself.
 */
export function createOAuthClients(deps: {
  clients: OAuthClientStore;
  identityStore: IdentityStore;
  audited: Audited<OAuthStores>;
  now: () => number;
}) {
  const { clients, audited, now } = deps;
  const store = deps.identityStore;

  const byId = (id: string) => clients.byId(id);
  const viewOf = async (c: ClientRow) => view(c, await store.rolesOfClient(c.id));

  /**
   * Resolves role names or ids, refusing unknown ones, and roles granting what the caller itself
   * does not hold (an administrator cannot hand a client more than they hold).
   * @throws VigilError bad_data `role.unknown`, forbidden `role.escalation`.
   */
  async function rolesFor(refs: string[], callerGrants: readonly string[]): Promise<RoleRow[]> {
    const out = new Map<string, RoleRow>();
    for (const ref of refs) {
      const role = (await store.roleById(ref)) ?? (await store.roleByName(ref));
      if (!role) throw new VigilError('bad_data', `unknown role ${ref}`, { code: 'role.unknown' });
      out.set(role.id, role);
    }
    for (const role of out.values())
      checkMayGrant(
        callerGrants,
        JSON.parse(role.permissions) as string[],
        `the role ${role.name}`,
      );
    return [...out.values()];
  }

  /**
   * Refuses any change to a client whose roles grant what the caller does not hold: turning on
   * one of its grants would hand its roles out, and changing it at all is managing an identity
   * stronger than the caller.
   * @throws VigilError forbidden `role.escalation`.
   */
  async function checkMayManage(c: ClientRow, callerGrants: readonly string[]): Promise<void> {
    const roles = await store.rolesOfClient(c.id);
    checkMayGrant(callerGrants, grantsOfRoles(roles), `the API client ${c.client_id}`);
  }

  function checkClientScope(scope: string | undefined) {
    if (scope !== undefined && scope !== PUBLIC_API_SCOPE)
      throw new VigilError('bad_data', `scope must be ${PUBLIC_API_SCOPE}, the only scope`, {
        code: 'oauth.scope_invalid',
      });
  }

  return {
    async list(): Promise<ClientView[]> {
      return Promise.all((await clients.list()).map(viewOf));
    },

    async get(id: string): Promise<ClientView> {
      const c = await byId(id);
      if (!c) throw new VigilError('not_found', `no API client ${id}`, { code: 'oauth.not_found' });
      return viewOf(c);
    },

    /** Creates a client; its secret is in the answer once, and stored only as a hash. */
    async create(
      input: ClientInput & { client_id: string },
      ctx: RequestContext,
      callerGrants: readonly string[] = [],
    ): Promise<ClientView & { client_secret: string }> {
      checkName(input.client_id, 'client_id');
      checkClientScope(input.scope);
      if (input.client_secret !== undefined) {
        const problem = clientSecretProblem(input.client_secret);
        if (problem) throw new VigilError('bad_data', problem, { code: 'oauth.weak_secret' });
      }
      const roles = await rolesFor(input.roles ?? [], callerGrants);
      if (await clients.byClientId(input.client_id))
        throw new VigilError('conflict', `an API client ${input.client_id} exists`, {
          code: 'oauth.client_exists',
        });
      const secret = input.client_secret ?? randomBytes(32).toString('base64url');
      const at = now();
      const row: ClientRow = {
        id: randomUUID(),
        client_id: input.client_id,
        secret_hash: hashToken(secret),
        description: input.description ?? '',
        scope: PUBLIC_API_SCOPE,
        access_token_ttl_seconds: input.access_token_ttl_seconds ?? 3600,
        refresh_token_ttl_seconds: input.refresh_token_ttl_seconds ?? 14 * 86_400,
        allow_password: input.allow_password === false ? 0 : 1,
        allow_refresh_token: input.allow_refresh_token === false ? 0 : 1,
        allow_client_credentials: input.allow_client_credentials === true ? 1 : 0,
        created_at: at,
        updated_at: at,
      };
      await audited(
        ctx,
        {
          action: 'oauth.client_create',
          resourceType: 'oauth_client',
          resourceId: row.id,
          detail: {
            client_id: row.client_id,
            grant_types: grantTypes(row),
            roles: roles.map((r) => r.name),
          },
        },
        async (s) => {
          await s.clients.insert(row);
          await s.identity.setClientRoles(
            row.id,
            roles.map((r) => r.id),
          );
        },
      );
      return { ...view(row, roles), client_secret: secret };
    },

    async update(
      id: string,
      input: ClientInput,
      ctx: RequestContext,
      callerGrants: readonly string[] = [],
    ): Promise<ClientView> {
      checkClientScope(input.scope);
      const c = await byId(id);
      if (!c) throw new VigilError('not_found', `no API client ${id}`, { code: 'oauth.not_found' });
      await checkMayManage(c, callerGrants);
      if (input.client_secret !== undefined)
        throw new VigilError('bad_data', 'the secret cannot be changed; create another client', {
          code: 'oauth.secret_fixed',
        });
      if (input.client_id !== undefined && input.client_id !== c.client_id)
        throw new VigilError('bad_data', 'client_id cannot be changed; create another client', {
          code: 'oauth.client_id_fixed',
        });
      const patch: Partial<ClientRow> = { updated_at: now() };
      if (input.description !== undefined) patch.description = input.description;
      if (input.access_token_ttl_seconds !== undefined)
        patch.access_token_ttl_seconds = input.access_token_ttl_seconds;
      if (input.refresh_token_ttl_seconds !== undefined)
        patch.refresh_token_ttl_seconds = input.refresh_token_ttl_seconds;
      if (input.allow_password !== undefined) patch.allow_password = input.allow_password ? 1 : 0;
      if (input.allow_refresh_token !== undefined)
        patch.allow_refresh_token = input.allow_refresh_token ? 1 : 0;
      if (input.allow_client_credentials !== undefined)
        patch.allow_client_credentials = input.allow_client_credentials ? 1 : 0;
      const roles =
        input.roles === undefined ? undefined : await rolesFor(input.roles, callerGrants);
      await audited(
        ctx,
        { action: 'oauth.client_update', resourceType: 'oauth_client', resourceId: id },
        async (s, draft) => {
          const before = new Set((await s.identity.rolesOfClient(id)).map((r) => r.id));
          const rolesChanged =
            roles !== undefined &&
            (roles.length !== before.size || roles.some((r) => !before.has(r.id)));
          const grantOff = c.allow_client_credentials === 1 && patch.allow_client_credentials === 0;
          await s.clients.update(id, patch);
          if (roles)
            await s.identity.setClientRoles(
              id,
              roles.map((r) => r.id),
            );
          // A token issued before the change must not outlive it: turning the grant back on, or
          // giving the old roles back, must not revive it.
          const revoked =
            rolesChanged || grantOff ? await s.identity.revokeClientTokens(id, now()) : 0;
          draft.entry.detail = {
            ...input,
            grant_types: grantTypes({ ...c, ...patch }),
            ...(roles ? { roles: roles.map((r) => r.name) } : {}),
            client_id: c.client_id,
            // How many live tokens the change revoked (a key naming tokens would be redacted).
            revoked,
          };
        },
      );
      return viewOf({ ...c, ...patch });
    },

    /** Deletes a client; the sessions opened through it end at once. */
    async remove(
      id: string,
      ctx: RequestContext,
      callerGrants: readonly string[] = [],
    ): Promise<void> {
      const c = await byId(id);
      if (!c) throw new VigilError('not_found', `no API client ${id}`, { code: 'oauth.not_found' });
      await checkMayManage(c, callerGrants);
      await audited(
        ctx,
        {
          action: 'oauth.client_delete',
          resourceType: 'oauth_client',
          resourceId: id,
          detail: { client_id: c.client_id },
        },
        async (s) => {
          await s.clients.revokeSessions(c.client_id, now(), 'oauth_client_deleted');
          await s.clients.delete(id);
        },
      );
    },
  };
}
