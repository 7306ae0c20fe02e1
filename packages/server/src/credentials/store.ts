import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { CredentialRow, CredentialStore } from './service.js';

const rowOf = (r: Selectable<Database['credentials']>): CredentialRow => ({
  ...r,
  key_bits: r.key_bits === null ? null : Number(r.key_bits),
  is_default: Number(r.is_default),
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

/** The credentials store; pass a transaction to write within it. Secrets arrive sealed. */
export const createCredentialStore = (db: Kysely<Database>): CredentialStore => ({
  async list(filter) {
    let q = db.selectFrom('credentials').selectAll();
    if (filter.scope !== undefined) q = q.where('scope', '=', filter.scope);
    if (filter.hostId !== undefined) q = q.where('host_id', '=', filter.hostId);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id').execute();
    return rows.map(rowOf);
  },
  async get(id) {
    const r = await db
      .selectFrom('credentials')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && rowOf(r);
  },
  async insert(row) {
    await db.insertInto('credentials').values(row).execute();
  },
  async replace(row) {
    await db
      .updateTable('credentials')
      .set({
        name: row.name,
        description: row.description,
        scope: row.scope,
        host_id: row.host_id,
        username: row.username,
        auth_method: row.auth_method,
        private_key_sealed: row.private_key_sealed,
        passphrase_sealed: row.passphrase_sealed,
        password_sealed: row.password_sealed,
        key_fingerprint: row.key_fingerprint,
        key_type: row.key_type,
        key_bits: row.key_bits,
        is_default: row.is_default,
        updated_at: row.updated_at,
      })
      .where('id', '=', row.id)
      .execute();
  },
  async delete(id) {
    const r = await db.deleteFrom('credentials').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
  async clearDefaults(scope, hostId, exceptId) {
    let q = db
      .updateTable('credentials')
      .set({ is_default: 0 })
      .where('scope', '=', scope)
      .where('id', '<>', exceptId);
    q = hostId === null ? q.where('host_id', 'is', null) : q.where('host_id', '=', hostId);
    await q.execute();
  },
});
