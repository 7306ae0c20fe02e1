import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { IngestStore } from './service.js';

/** The ingest store on the shared query layer. */
export const createIngestStore = (db: Kysely<Database>): IngestStore => ({
  async record(row) {
    return db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('agent_reports')
        .values({
          agent_id: row.agentId,
          collected_at: row.collectedAt,
          received_at: row.receivedAt,
          checks: row.checks,
        })
        .onConflict((oc) => oc.columns(['agent_id', 'collected_at']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await trx
        .insertInto('agent_documents')
        .values({
          agent_id: row.agentId,
          collected_at: row.collectedAt,
          received_at: row.receivedAt,
          document: row.document,
        })
        .onConflict((oc) =>
          oc
            .column('agent_id')
            .doUpdateSet((eb) => ({
              collected_at: eb.ref('excluded.collected_at'),
              received_at: eb.ref('excluded.received_at'),
              document: eb.ref('excluded.document'),
            }))
            .where('agent_documents.collected_at', '<', row.collectedAt),
        )
        .execute();
      await trx
        .updateTable('agents')
        .set({ last_seen: row.receivedAt })
        .where('id', '=', row.agentId)
        .execute();
      return true;
    });
  },
  async saveInventory(agentId, receivedAt, inventory) {
    await db
      .insertInto('agent_inventories')
      .values({ agent_id: agentId, received_at: receivedAt, inventory })
      .onConflict((oc) => oc.column('agent_id').doUpdateSet({ received_at: receivedAt, inventory }))
      .execute();
  },
  async pruneReports(beforeMs, limit) {
    const victims = db
      .selectFrom('agent_reports')
      .select(['agent_id', 'collected_at'])
      .where('received_at', '<', beforeMs)
      .limit(limit);
    const rows = await victims.execute();
    for (const r of rows)
      await db
        .deleteFrom('agent_reports')
        .where('agent_id', '=', r.agent_id)
        .where('collected_at', '=', r.collected_at)
        .execute();
    return rows.length;
  },
});
