import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { HostStore } from './service.js';

/** The hosts store on the shared query layer; pass a transaction to write within it. */
export const createHostStore = (db: Kysely<Database>): HostStore => ({
  async insertIfAbsent(name, at) {
    await db
      .insertInto('hosts')
      .values({ id: randomUUID(), name, address: null, created_at: at, updated_at: at })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  },
  byName: (name) => db.selectFrom('hosts').selectAll().where('name', '=', name).executeTakeFirst(),
  get: (id) => db.selectFrom('hosts').selectAll().where('id', '=', id).executeTakeFirst(),
  page: (after, limit) =>
    db.selectFrom('hosts').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute(),
});
