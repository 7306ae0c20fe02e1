import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { InstanceSecretStore } from './instance-secret.js';

/** The instance secret's store: rows of the `settings` table. */
export const createInstanceSecretStore = (db: Kysely<Database>): InstanceSecretStore => ({
  async insertIfAbsent(key, value) {
    await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  },
  async get(key) {
    const row = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  },
});
