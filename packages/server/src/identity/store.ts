import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { IdentityStore } from './model.js';

/** The identity store on the shared query layer; pass a transaction to work within it. */
export const createIdentityStore = (db: Kysely<Database>): IdentityStore => ({
  async countUsers() {
    const r = await db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },
  userByName: (username) =>
    db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst(),
  userById: (id) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst(),
  async insertUser(row) {
    await db.insertInto('users').values(row).execute();
  },
  async setLastLogin(userId, atMs) {
    await db.updateTable('users').set({ last_login_at: atMs }).where('id', '=', userId).execute();
  },
  rolesOf: (userId) =>
    db
      .selectFrom('roles')
      .innerJoin('user_roles', 'user_roles.role_id', 'roles.id')
      .selectAll('roles')
      .where('user_roles.user_id', '=', userId)
      .orderBy('roles.name')
      .execute(),
  roleByName: (name) =>
    db.selectFrom('roles').selectAll().where('name', '=', name).executeTakeFirst(),
  async upsertSystemRole(row) {
    await db
      .insertInto('roles')
      .values(row)
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          description: row.description,
          permissions: row.permissions,
          is_system: 1,
          updated_at: row.updated_at,
        }),
      )
      .execute();
  },
  async assignRole(userId, roleId) {
    await db
      .insertInto('user_roles')
      .values({ user_id: userId, role_id: roleId })
      .onConflict((oc) => oc.columns(['user_id', 'role_id']).doNothing())
      .execute();
  },
  async insertSession(row) {
    await db.insertInto('sessions').values(row).execute();
  },
  async extendSession(id, expiresAt) {
    await db.updateTable('sessions').set({ expires_at: expiresAt }).where('id', '=', id).execute();
  },
  async insertToken(row) {
    await db.insertInto('session_tokens').values(row).execute();
  },
  findToken: (hash) =>
    db
      .selectFrom('session_tokens as t')
      .innerJoin('sessions as s', 's.id', 't.session_id')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select([
        't.token_hash',
        't.kind',
        't.expires_at',
        't.used_at',
        't.session_id',
        's.revoked_at as session_revoked_at',
        's.client_id as session_client_id',
        'u.id as user_id',
        'u.disabled_at as user_disabled_at',
      ])
      .where('t.token_hash', '=', hash)
      .executeTakeFirst(),
  async markTokenUsed(hash, atMs) {
    const r = await db
      .updateTable('session_tokens')
      .set({ used_at: atMs })
      .where('token_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async useMfaStep(userId, step) {
    const r = await db
      .updateTable('users')
      .set({ mfa_last_step: step })
      .where('id', '=', userId)
      .where((eb) => eb.or([eb('mfa_last_step', 'is', null), eb('mfa_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async revokeUserSessions(userId, atMs, reason, keep) {
    let q = db
      .updateTable('sessions')
      .set({ revoked_at: atMs, revoked_reason: reason })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (keep !== undefined) q = q.where('id', '!=', keep);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
  listUsers: () => db.selectFrom('users').selectAll().orderBy('username').execute(),
  async rolesOfUsers(userIds) {
    const out = new Map<string, Database['roles'][]>(userIds.map((id) => [id, []]));
    for (let i = 0; i < userIds.length; i += 500) {
      const rows = await db
        .selectFrom('roles')
        .innerJoin('user_roles', 'user_roles.role_id', 'roles.id')
        .selectAll('roles')
        .select('user_roles.user_id')
        .where('user_roles.user_id', 'in', userIds.slice(i, i + 500))
        .orderBy('roles.name')
        .execute();
      for (const { user_id, ...role } of rows) out.get(user_id)?.push(role);
    }
    return out;
  },
  async updateUser(id, patch) {
    await db.updateTable('users').set(patch).where('id', '=', id).execute();
  },
  listRoles: () => db.selectFrom('roles').selectAll().orderBy('name').execute(),
  roleById: (id) => db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst(),
  async insertRole(row) {
    await db.insertInto('roles').values(row).execute();
  },
  async updateRole(id, patch) {
    await db.updateTable('roles').set(patch).where('id', '=', id).execute();
  },
  async deleteRole(id) {
    await db.deleteFrom('user_roles').where('role_id', '=', id).execute();
    await db.deleteFrom('roles').where('id', '=', id).execute();
  },
  async unassignRole(userId, roleId) {
    await db
      .deleteFrom('user_roles')
      .where('user_id', '=', userId)
      .where('role_id', '=', roleId)
      .execute();
  },
  holdersOf: (roleId) =>
    db
      .selectFrom('users')
      .innerJoin('user_roles', 'user_roles.user_id', 'users.id')
      .select(['users.id', 'users.disabled_at'])
      .where('user_roles.role_id', '=', roleId)
      .execute(),
  async clientHoldersOf(roleId) {
    const rows = await db
      .selectFrom('oauth_client_roles as cr')
      .innerJoin('oauth_clients as c', 'c.id', 'cr.client_row_id')
      .select('c.client_id')
      .where('cr.role_id', '=', roleId)
      .orderBy('c.client_id')
      .execute();
    return rows.map((r) => r.client_id);
  },
  rolesOfClient: (clientRowId) =>
    db
      .selectFrom('roles')
      .innerJoin('oauth_client_roles', 'oauth_client_roles.role_id', 'roles.id')
      .selectAll('roles')
      .where('oauth_client_roles.client_row_id', '=', clientRowId)
      .orderBy('roles.name')
      .execute(),
  async setClientRoles(clientRowId, roleIds) {
    await db.deleteFrom('oauth_client_roles').where('client_row_id', '=', clientRowId).execute();
    if (roleIds.length > 0)
      await db
        .insertInto('oauth_client_roles')
        .values(roleIds.map((role_id) => ({ client_row_id: clientRowId, role_id })))
        .execute();
  },
  async insertClientToken(row) {
    await db.insertInto('oauth_client_tokens').values(row).execute();
  },
  findClientToken: (hash) =>
    db
      .selectFrom('oauth_client_tokens as t')
      .innerJoin('oauth_clients as c', 'c.id', 't.client_row_id')
      .select([
        't.token_hash',
        't.expires_at',
        't.revoked_at',
        't.client_row_id',
        'c.client_id',
        'c.allow_client_credentials',
      ])
      .where('t.token_hash', '=', hash)
      .executeTakeFirst(),
  async pruneClientTokens(clientRowId, atMs) {
    await db
      .deleteFrom('oauth_client_tokens')
      .where('client_row_id', '=', clientRowId)
      .where('expires_at', '<', atMs)
      .execute();
  },
  async revokeClientTokens(clientRowId, atMs) {
    const r = await db
      .updateTable('oauth_client_tokens')
      .set({ revoked_at: atMs })
      .where('client_row_id', '=', clientRowId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', atMs)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  },
  async revokeClientToken(hash, clientRowId, atMs) {
    const r = await db
      .updateTable('oauth_client_tokens')
      .set({ revoked_at: atMs })
      .where('token_hash', '=', hash)
      .where('client_row_id', '=', clientRowId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  async revokeSession(id, atMs, reason) {
    await db
      .updateTable('sessions')
      .set({ revoked_at: atMs, revoked_reason: reason })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  },
});
