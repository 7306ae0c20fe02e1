import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { HostStore } from './service.js';

/**
 * The hosts store on the shared query layer; pass a transaction to write within it. The only
 * place that queries the hosts table; it reads the agents' link to their host (`host_id`,
 * `interval_seconds`) too, for the readers that start from a host or an agent.
 */
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

  async summary(id) {
    const row = await db
      .selectFrom('hosts')
      .select(['id', 'name'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const a = await db
      .selectFrom('agents')
      .select((eb) => eb.fn.min('interval_seconds').as('i'))
      .where('host_id', '=', id)
      .executeTakeFirst();
    return {
      id: row.id,
      name: row.name,
      intervalSeconds: a?.i === null || a?.i === undefined ? null : Number(a.i),
    };
  },

  async ofAgent(agentId) {
    const row = await db
      .selectFrom('agents')
      .select('host_id')
      .where('id', '=', agentId)
      .executeTakeFirst();
    return row ? row.host_id : undefined;
  },

  all: () => db.selectFrom('hosts').selectAll().orderBy('name').execute(),

  async firstIds(limit) {
    const rows = await db
      .selectFrom('hosts')
      .select('id')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  },
});
