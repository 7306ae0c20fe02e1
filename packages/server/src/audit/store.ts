import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { AuditStore } from './service.js';

/** The audit store on the shared query layer; pass a transaction to write within it. */
export const createAuditStore = (db: Kysely<Database>): AuditStore => ({
  async insert(row) {
    await db.insertInto('audit_events').values(row).execute();
  },
  async list(f) {
    let q = db.selectFrom('audit_events').selectAll();
    if (f.action !== undefined) q = q.where('action', '=', f.action);
    const prefixes = f.actionPrefixes;
    if (prefixes !== undefined)
      q = q.where((eb) => eb.or(prefixes.map((p) => eb('action', 'like', `${p}%`))));
    if (f.correlationId !== undefined) q = q.where('correlation_id', '=', f.correlationId);
    if (f.actorType !== undefined) q = q.where('actor_type', '=', f.actorType);
    if (f.resourceType !== undefined) q = q.where('resource_type', '=', f.resourceType);
    if (f.resourceId !== undefined) q = q.where('resource_id', '=', f.resourceId);
    if (f.sinceMs !== undefined) q = q.where('occurred_at', '>=', f.sinceMs);
    if (f.untilMs !== undefined) q = q.where('occurred_at', '<=', f.untilMs);
    const before = f.before;
    if (before)
      q = q.where((eb) =>
        eb.or([
          eb('occurred_at', '<', before.occurredAt),
          eb.and([eb('occurred_at', '=', before.occurredAt), eb('id', '<', before.id)]),
        ]),
      );
    return q.orderBy('occurred_at', 'desc').orderBy('id', 'desc').limit(f.limit).execute();
  },
});
