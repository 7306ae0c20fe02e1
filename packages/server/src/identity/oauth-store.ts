import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { OAuthClientStore } from './oauth-clients.js';

/** The API clients' store on the shared query layer; pass a transaction to work within it. */
export const createOAuthClientStore = (db: Kysely<Database>): OAuthClientStore => ({
  byId: (id) => db.selectFrom('oauth_clients').selectAll().where('id', '=', id).executeTakeFirst(),
  byClientId: (clientId) =>
    db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst(),
  list: () => db.selectFrom('oauth_clients').selectAll().orderBy('client_id').execute(),
  async insert(row) {
    await db.insertInto('oauth_clients').values(row).execute();
  },
  async update(id, patch) {
    await db.updateTable('oauth_clients').set(patch).where('id', '=', id).execute();
  },
  async delete(id) {
    await db.deleteFrom('oauth_clients').where('id', '=', id).execute();
  },
  async revokeSessions(clientId, atMs, reason) {
    await db
      .updateTable('sessions')
      .set({ revoked_at: atMs, revoked_reason: reason })
      .where('client_id', '=', clientId)
      .where('revoked_at', 'is', null)
      .execute();
  },
});
