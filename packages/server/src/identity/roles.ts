import { randomUUID } from 'node:crypto';
import {
  isValidGrant,
  type CreateRoleRequest,
  type RoleView,
  type UpdateRoleRequest,
} from '@vigil/protocol';
import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { checkMayGrantRole, notFound } from './admin-common.js';
import { checkMayGrant } from './grants.js';
import type { IdentityStore, IdentityStores, RoleRow } from './model.js';
import { checkName } from './names.js';

const roleView = (r: RoleRow): RoleView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  permissions: JSON.parse(r.permissions) as string[],
  is_system: r.is_system === 1,
  created_at: new Date(r.created_at).toISOString(),
  updated_at: new Date(r.updated_at).toISOString(),
});

function checkGrants(permissions: string[]): string[] {
  const bad = permissions.filter((p) => !isValidGrant(p));
  if (bad.length > 0)
    throw new VigilError(
      'bad_data',
      `unknown permission ${bad.join(', ')} (see GET /api/v1/auth/permissions:registry)`,
      { code: 'role.unknown_permission' },
    );
  return [...new Set(permissions)];
}

/** A role name shaped like a role id, which paths would read as the id of another role. */
const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Applies the name rules to a role name, and refuses one shaped like a role id: `{id}` in a path
 * is a role's id or its name, so such a name would stand for another role.
 * @throws VigilError bad_data `name.*` or `role.name_is_id`.
 */
function checkRoleName(name: string): string {
  const nfc = checkName(name, 'role name');
  if (UUID_SHAPED.test(nfc.normalize('NFKC')))
    throw new VigilError('bad_data', 'role name must not look like a role id (a UUID)', {
      code: 'role.name_is_id',
    });
  return nfc;
}

/** The administration of custom roles; the built-in ones cannot be changed or deleted. */
export function createRoles(deps: {
  store: IdentityStore;
  audited: Audited<IdentityStores>;
  now: () => number;
}) {
  const { store, audited, now } = deps;
  return {
    listRoles: async (): Promise<RoleView[]> => (await store.listRoles()).map(roleView),

    /** A role by id or by name. */
    async getRole(ref: string): Promise<RoleView> {
      const r = (await store.roleById(ref)) ?? (await store.roleByName(ref));
      if (!r) throw notFound('role', ref);
      return roleView(r);
    },

    /** @throws VigilError bad_data (unknown permission), conflict (name taken). */
    async createRole(
      input: CreateRoleRequest,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<RoleView> {
      const name = checkRoleName(input.name);
      const permissions = checkGrants(input.permissions);
      checkMayGrant(callerGrants, permissions, `the role ${name}`);
      return audited(ctx, { action: 'role.create', resourceType: 'role' }, async (s, draft) => {
        if (await s.identity.roleByName(name))
          throw new VigilError('conflict', `a role named ${name} exists`, {
            code: 'role.exists',
          });
        const at = now();
        const row: RoleRow = {
          id: randomUUID(),
          name,
          description: input.description ?? '',
          permissions: JSON.stringify(permissions),
          is_system: 0,
          created_at: at,
          updated_at: at,
        };
        await s.identity.insertRole(row);
        draft.entry.resourceId = row.id;
        draft.entry.detail = { name: row.name, permissions };
        return roleView(row);
      });
    },

    /**
     * Changes a custom role, named by id or by name.
     * @throws VigilError conflict for a built-in role or a name taken.
     */
    async updateRole(
      ref: string,
      input: UpdateRoleRequest,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<RoleView> {
      const permissions = input.permissions ? checkGrants(input.permissions) : undefined;
      const newName = input.name === undefined ? undefined : checkRoleName(input.name);
      return audited(ctx, { action: 'role.update', resourceType: 'role' }, async (s, draft) => {
        const r = (await s.identity.roleById(ref)) ?? (await s.identity.roleByName(ref));
        if (!r) throw notFound('role', ref);
        const id = r.id;
        if (r.is_system === 1)
          throw new VigilError('conflict', `the built-in role ${r.name} cannot be changed`, {
            code: 'role.system',
          });
        checkMayGrantRole(callerGrants, r);
        if (permissions) checkMayGrant(callerGrants, permissions, `the role ${r.name}`);
        if (newName !== undefined && newName !== r.name) {
          if (await s.identity.roleByName(newName))
            throw new VigilError('conflict', `a role named ${newName} exists`, {
              code: 'role.exists',
            });
        }
        const patch: Partial<RoleRow> = { updated_at: now() };
        if (newName !== undefined) patch.name = newName;
        if (input.description !== undefined) patch.description = input.description;
        if (permissions) patch.permissions = JSON.stringify(permissions);
        await s.identity.updateRole(id, patch);
        draft.entry.resourceId = id;
        draft.entry.detail = { name: newName ?? r.name, ...(permissions ? { permissions } : {}) };
        return roleView({ ...r, ...patch });
      });
    },

    /**
     * Deletes a custom role, named by id or by name.
     * @throws VigilError conflict for a built-in role or one still held by users or API clients.
     */
    async deleteRole(
      ref: string,
      ctx: RequestContext,
      callerGrants: readonly string[],
    ): Promise<void> {
      await audited(ctx, { action: 'role.delete', resourceType: 'role' }, async (s, draft) => {
        const r = (await s.identity.roleById(ref)) ?? (await s.identity.roleByName(ref));
        if (!r) throw notFound('role', ref);
        const id = r.id;
        if (r.is_system === 1)
          throw new VigilError('conflict', `the built-in role ${r.name} cannot be deleted`, {
            code: 'role.system',
          });
        checkMayGrantRole(callerGrants, r);
        const holders = await s.identity.holdersOf(id);
        if (holders.length > 0)
          throw new VigilError(
            'conflict',
            `the role ${r.name} is held by ${holders.length} user(s); unassign it first`,
            { code: 'role.in_use' },
          );
        const clients = await s.identity.clientHoldersOf(id);
        if (clients.length > 0)
          throw new VigilError(
            'conflict',
            `the role ${r.name} is held by the API client(s) ${clients.join(', ')}; take it from them first`,
            { code: 'role.in_use' },
          );
        await s.identity.deleteRole(id);
        draft.entry.resourceId = id;
        draft.entry.detail = { name: r.name };
      });
    },
  };
}
