import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { IdempotencyStore } from './idempotency.js';

/** The idempotency store on the shared query layer (the `idempotency_keys` table). */
export const createIdempotencyStore = (db: Kysely<Database>): IdempotencyStore => ({
  async deleteExpired(k, atMs) {
    await db
      .deleteFrom('idempotency_keys')
      .where('identity', '=', k.identity)
      .where('key', '=', k.key)
      .where('expires_at', '<=', atMs)
      .execute();
  },
  async insert(row) {
    const r = await db
      .insertInto('idempotency_keys')
      .values(row)
      .onConflict((oc) => oc.columns(['identity', 'key']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
  find: (k) =>
    db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('identity', '=', k.identity)
      .where('key', '=', k.key)
      .executeTakeFirst(),
  async deleteUnfinished(k) {
    await db
      .deleteFrom('idempotency_keys')
      .where('identity', '=', k.identity)
      .where('key', '=', k.key)
      .where('status', 'is', null)
      .execute();
  },
  async delete(k) {
    await db
      .deleteFrom('idempotency_keys')
      .where('identity', '=', k.identity)
      .where('key', '=', k.key)
      .execute();
  },
  async saveAnswer(k, answer) {
    await db
      .updateTable('idempotency_keys')
      .where('identity', '=', k.identity)
      .where('key', '=', k.key)
      .set(answer)
      .execute();
  },
  expiredKeys: (atMs, limit) =>
    db
      .selectFrom('idempotency_keys')
      .select(['identity', 'key'])
      .where('expires_at', '<=', atMs)
      .limit(limit)
      .execute(),
});
