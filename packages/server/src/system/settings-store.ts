import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SettingsStore } from './settings.js';

/** The `settings` table as a key-value store; pass a transaction to write within it. */
export const createSettingsStore = (db: Kysely<Database>): SettingsStore => ({
  async get(key) {
    const r = await db
      .selectFrom('settings')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return r?.value;
  },
  async put(key, value) {
    await db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  },
});
