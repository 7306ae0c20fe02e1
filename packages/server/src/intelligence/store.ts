import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { IntelligenceStore } from './model.js';

/** Host intelligence's states and events (`intel_states`, `intel_events`). */
export const createIntelligenceStore = (db: Kysely<Database>): IntelligenceStore => ({
  async state(hostId) {
    const row = await db
      .selectFrom('intel_states')
      .select(['state', 'updated_at'])
      .where('host_id', '=', hostId)
      .executeTakeFirst();
    return row && { state: row.state, updated_at: Number(row.updated_at) };
  },

  async save(hostId, state, events, at) {
    await db.transaction().execute(async (trx) => {
      if (events.length > 0)
        await trx
          .insertInto('intel_events')
          .values(
            events.map((e) => ({
              host_id: hostId,
              kind: e.kind,
              subject: e.subject,
              detail: JSON.stringify(e.detail),
              at: e.at,
            })),
          )
          .execute();
      await trx
        .insertInto('intel_states')
        .values({ host_id: hostId, state, updated_at: at })
        .onConflict((oc) => oc.column('host_id').doUpdateSet({ state, updated_at: at }))
        .execute();
    });
  },

  async deleteBefore(at, limit) {
    const doomed = db
      .selectFrom('intel_events')
      .select('id')
      .where('at', '<', at)
      .orderBy('id')
      .limit(limit);
    const r = await db.deleteFrom('intel_events').where('id', 'in', doomed).executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  async events(q) {
    let query = db
      .selectFrom('intel_events as e')
      .leftJoin('hosts as h', 'h.id', 'e.host_id')
      .select([
        'e.id',
        'e.host_id',
        'h.name as host_name',
        'e.kind',
        'e.subject',
        'e.detail',
        'e.at',
      ]);
    if (q.hostId !== undefined) query = query.where('e.host_id', '=', q.hostId);
    if (q.kinds !== undefined) query = query.where('e.kind', 'in', [...q.kinds]);
    if (q.sinceMs !== undefined) query = query.where('e.at', '>=', q.sinceMs);
    if (q.untilMs !== undefined) query = query.where('e.at', '<=', q.untilMs);
    if (q.beforeId !== undefined) query = query.where('e.id', '<', q.beforeId);
    const rows = await query.orderBy('e.id', 'desc').limit(q.limit).execute();
    return rows.map((r) => ({
      id: Number(r.id),
      host_id: r.host_id,
      host_name: r.host_name ?? null,
      kind: r.kind,
      subject: r.subject,
      detail: r.detail,
      at: Number(r.at),
    }));
  },
});
