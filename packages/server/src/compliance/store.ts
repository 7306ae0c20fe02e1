import type { ExpressionBuilder, Kysely } from 'kysely';
import type { ComplianceStatus } from '@vigil/protocol';
import type { Database } from '../db/schema.js';
import type { ComplianceChangeRow, ComplianceStateRow, ComplianceStore } from './model.js';

/** Rows written per statement: well under SQLite's bound on variables. */
const CHUNK = 500;

type ChangeDb = {
  id: number;
  host_id: string;
  pack_id: string;
  rule_id: string;
  from_status: string;
  to_status: string;
  detail: string | null;
  at: number | string;
};

const changeOf = (r: ChangeDb): ComplianceChangeRow => ({
  id: Number(r.id),
  host_id: r.host_id,
  pack_id: r.pack_id,
  rule_id: r.rule_id,
  from_status: r.from_status as ComplianceStatus,
  to_status: r.to_status as ComplianceStatus,
  detail: r.detail,
  at: Number(r.at),
});

/** A live host: not deleted, not disabled (a disabled host is kept out of the fleet's views). */
const live = (eb: ExpressionBuilder<Database, 'hosts'>) =>
  eb.and([eb('hosts.deleted_at', 'is', null), eb('hosts.disabled', '=', 0)]);

/** Compliance states and changes on either database. */
export const createComplianceStore = (db: Kysely<Database>): ComplianceStore => ({
  async states(hostId) {
    const rows = await db
      .selectFrom('compliance_states')
      .selectAll()
      .where('host_id', '=', hostId)
      .execute();
    return rows.map((r) => ({
      ...r,
      status: r.status as ComplianceStatus,
      since: Number(r.since),
      evaluated_at: Number(r.evaluated_at),
    }));
  },

  async saveStates(rows: readonly ComplianceStateRow[]) {
    for (let i = 0; i < rows.length; i += CHUNK)
      await db
        .insertInto('compliance_states')
        .values(rows.slice(i, i + CHUNK))
        .onConflict((oc) =>
          oc.columns(['host_id', 'pack_id', 'rule_id']).doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            detail: eb.ref('excluded.detail'),
            since: eb.ref('excluded.since'),
            evaluated_at: eb.ref('excluded.evaluated_at'),
          })),
        )
        .execute();
  },

  async deleteStates(rows) {
    for (const r of rows)
      await db
        .deleteFrom('compliance_states')
        .where('host_id', '=', r.host_id)
        .where('pack_id', '=', r.pack_id)
        .where('rule_id', '=', r.rule_id)
        .execute();
  },

  async addChanges(rows) {
    for (let i = 0; i < rows.length; i += CHUNK)
      await db
        .insertInto('compliance_changes')
        .values(rows.slice(i, i + CHUNK))
        .execute();
  },

  async hostChanges(hostId, limit) {
    const rows = await db
      .selectFrom('compliance_changes')
      .selectAll()
      .where('host_id', '=', hostId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(changeOf);
  },

  async fleetChanges(q) {
    let query = db
      .selectFrom('compliance_changes as c')
      .innerJoin('hosts', 'hosts.id', 'c.host_id')
      .selectAll('c')
      .select('hosts.name as host_name')
      .where(live);
    if (q.hostId !== undefined) query = query.where('c.host_id', '=', q.hostId);
    if (q.beforeId !== undefined) query = query.where('c.id', '<', q.beforeId);
    const rows = await query.orderBy('c.id', 'desc').limit(q.limit).execute();
    return rows.map((r) => ({ ...changeOf(r), host_name: r.host_name }));
  },

  async ruleCounts() {
    const rows = await db
      .selectFrom('compliance_states as s')
      .innerJoin('hosts', 'hosts.id', 's.host_id')
      .where(live)
      .select((eb) => ['s.pack_id', 's.rule_id', 's.status', eb.fn.countAll<number>().as('hosts')])
      .groupBy(['s.pack_id', 's.rule_id', 's.status'])
      .execute();
    return rows.map((r) => ({ ...r, hosts: Number(r.hosts) }));
  },

  async hostCounts() {
    const rows = await db
      .selectFrom('compliance_states as s')
      .innerJoin('hosts', 'hosts.id', 's.host_id')
      .where(live)
      .select((eb) => [
        's.host_id',
        'hosts.name as host_name',
        's.status',
        eb.fn.countAll<number>().as('rules'),
      ])
      .groupBy(['s.host_id', 'hosts.name', 's.status'])
      .execute();
    return rows.map((r) => ({ ...r, rules: Number(r.rules) }));
  },

  async stateCounts(wanted, hostIds) {
    const scope = wanted.filter((s) => s.rules === undefined || s.rules.length > 0);
    if (scope.length === 0 || hostIds?.length === 0) return [];
    let query = db
      .selectFrom('compliance_states')
      .select((eb) => [
        'host_id',
        'status',
        eb.fn.countAll<number>().as('rules'),
        eb.fn.max('evaluated_at').as('evaluated_at'),
      ])
      .where((eb) =>
        eb.or(
          scope.map((s) =>
            s.rules === undefined
              ? eb('pack_id', '=', s.pack)
              : eb.and([eb('pack_id', '=', s.pack), eb('rule_id', 'in', [...s.rules])]),
          ),
        ),
      );
    if (hostIds !== undefined) query = query.where('host_id', 'in', [...hostIds]);
    const rows = await query.groupBy(['host_id', 'status']).execute();
    return rows.map((r) => ({
      host_id: r.host_id,
      status: r.status,
      rules: Number(r.rules),
      evaluated_at: Number(r.evaluated_at),
    }));
  },
});
