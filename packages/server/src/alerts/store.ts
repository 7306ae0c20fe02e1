import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import { chunks } from '../telemetry/chunks.js';
import type {
  AlertQuery,
  AlertRecord,
  AlertStore,
  NewAlertRecord,
  SilenceRecord,
  TransitionRecord,
} from './records.js';

const OPEN = ['active', 'acknowledged', 'silenced'];

const labelsOf = (text: string): Record<string, string> => {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
};

type AlertRow = Selectable<Database['alerts']> & {
  host_name: string | null;
  rule_name: string | null;
};

/** Newest first: by start time, then by id, both descending (the list's order). */
const newestFirst = (a: AlertRecord, b: AlertRecord) =>
  b.started_at - a.started_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

const recordOf = (r: AlertRow): AlertRecord => ({
  ...r,
  labels: labelsOf(r.labels),
  suppressed: Number(r.suppressed) === 1,
  value: r.value === null ? null : Number(r.value),
  threshold: r.threshold === null ? null : Number(r.threshold),
});

const silenceOf = (r: Selectable<Database['alert_silences']>): SilenceRecord => ({
  ...r,
  labels: labelsOf(r.labels),
});

/** The alert tables' queries; pass a transaction to work within it. */
export const createAlertStore = (db: Kysely<Database>): AlertStore => {
  const alerts = () =>
    db
      .selectFrom('alerts')
      .leftJoin('hosts', 'hosts.id', 'alerts.host_id')
      .leftJoin('alert_rules', 'alert_rules.id', 'alerts.rule_id')
      .selectAll('alerts')
      .select(['hosts.name as host_name', 'alert_rules.name as rule_name']);
  /** A page of alerts in at most one state (none: every state), newest first. */
  const listIn = async (q: AlertQuery): Promise<AlertRecord[]> => {
    let s = alerts();
    if (q.states.length > 0) s = s.where('alerts.state', 'in', [...q.states]);
    if (q.severities && q.severities.length > 0)
      s = s.where('alerts.severity', 'in', [...q.severities]);
    if (q.hostId !== undefined) s = s.where('alerts.host_id', '=', q.hostId);
    if (q.since !== undefined) s = s.where('alerts.started_at', '>=', q.since);
    if (q.until !== undefined) s = s.where('alerts.started_at', '<', q.until);
    const after = q.after;
    if (after)
      s = s.where((eb) =>
        eb.or([
          eb('alerts.started_at', '<', after.startedAt),
          eb.and([eb('alerts.started_at', '=', after.startedAt), eb('alerts.id', '<', after.id)]),
        ]),
      );
    const rows = await s
      .orderBy('alerts.started_at', 'desc')
      .orderBy('alerts.id', 'desc')
      .limit(q.limit)
      .execute();
    return rows.map(recordOf);
  };
  return {
    async get(id) {
      const r = await alerts().where('alerts.id', '=', id).executeTakeFirst();
      return r && recordOf(r);
    },
    async getMany(ids) {
      const found: AlertRecord[] = [];
      for (const part of chunks([...ids])) {
        const rows = await alerts().where('alerts.id', 'in', part).execute();
        found.push(...rows.map(recordOf));
      }
      return found;
    },
    async openByKey(dedupKey) {
      const r = await alerts()
        .where('alerts.dedup_key', '=', dedupKey)
        // The states as literals: SQLite uses the partial index of open dedup keys only when it
        // can see that the query's condition is the index's; with bound values it scans every
        // open alert instead (10,000 of them: milliseconds per evaluation that fires or clears).
        .where(sql<boolean>`alerts.state in ('active', 'acknowledged', 'silenced')`)
        .executeTakeFirst();
      return r && recordOf(r);
    },
    async insertOpen(row: NewAlertRecord) {
      // The only unique index a new row can hit besides its fresh id is the open dedup key's.
      const r = await db
        .insertInto('alerts')
        .values({
          ...row,
          labels: JSON.stringify(row.labels),
          suppressed: row.suppressed ? 1 : 0,
        })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async change(id, expect, change) {
      const { suppressed, ...rest } = change;
      let q = db
        .updateTable('alerts')
        .set({ ...rest, ...(suppressed === undefined ? {} : { suppressed: suppressed ? 1 : 0 }) })
        .where('id', '=', id)
        .where('state', '=', expect.state);
      if (expect.severity !== undefined) q = q.where('severity', '=', expect.severity);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async list(q) {
      // Several states are read one state at a time, each in the order of the (state,
      // started_at, id) index, and merged: one query over all of them sorts every matching alert
      // (10,000 open ones: tens of milliseconds) before it can return the first page.
      // Once a page's worth is in hand, a later state only needs its alerts as new as the
      // oldest of that page: the others could not make it onto the page.
      if (q.states.length <= 1) return listIn(q);
      let page: AlertRecord[] = [];
      for (const state of q.states) {
        const floor = page.length >= q.limit ? page.at(-1)!.started_at : undefined;
        const since = floor === undefined ? q.since : Math.max(q.since ?? floor, floor);
        const rows = await listIn({ ...q, states: [state], since });
        page = [...page, ...rows].sort(newestFirst).slice(0, q.limit);
      }
      return page;
    },
    async open(filter = {}) {
      let s = alerts().where('alerts.state', 'in', [...(filter.states ?? OPEN)]);
      if (filter.hostId !== undefined) s = s.where('alerts.host_id', '=', filter.hostId);
      if (filter.ruleId !== undefined) s = s.where('alerts.rule_id', '=', filter.ruleId);
      const rows = await s.orderBy('alerts.started_at', 'desc').execute();
      return rows.map(recordOf);
    },
    async silenceEnded(at) {
      const rows = await alerts()
        .where('alerts.state', '=', 'silenced')
        .where('alerts.silenced_until', '<=', at)
        .execute();
      return rows.map(recordOf);
    },
    async silencedBy(silenceId) {
      const rows = await alerts()
        .where('alerts.silence_id', '=', silenceId)
        .where('alerts.state', '=', 'silenced')
        .execute();
      return rows.map(recordOf);
    },
    async countsBySeverity() {
      const rows = await db
        .selectFrom('alerts')
        .select(['severity', sql<number>`count(*)`.as('n')])
        .where('state', 'in', OPEN)
        .groupBy('severity')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.severity, Number(r.n)]));
    },
    async maintenanceUntil(hostId) {
      const r = await db
        .selectFrom('hosts')
        .select('maintenance_until')
        .where('id', '=', hostId)
        .executeTakeFirst();
      return r === undefined ? undefined : r.maintenance_until;
    },
    async insertTransition(row: TransitionRecord) {
      await db.insertInto('alert_transitions').values(row).execute();
    },
    async transitions(alertId) {
      return db
        .selectFrom('alert_transitions')
        .selectAll()
        .where('alert_id', '=', alertId)
        .orderBy('at')
        .orderBy('seq')
        .execute();
    },
    async recentTransitions(before, limit) {
      let s = db.selectFrom('alert_transitions').selectAll();
      if (before)
        s = s.where((eb) =>
          eb.or([
            eb('at', '<', before.at),
            eb.and([eb('at', '=', before.at), eb('seq', '<', before.seq)]),
          ]),
        );
      return s.orderBy('at', 'desc').orderBy('seq', 'desc').limit(limit).execute();
    },
    async insertSilence(row) {
      await db
        .insertInto('alert_silences')
        .values({ ...row, labels: JSON.stringify(row.labels) })
        .execute();
    },
    async silence(id) {
      const r = await db
        .selectFrom('alert_silences')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return r && silenceOf(r);
    },
    async silences(activeAt) {
      let s = db.selectFrom('alert_silences').selectAll();
      if (activeAt !== undefined)
        s = s.where('starts_at', '<=', activeAt).where('ends_at', '>', activeAt);
      const rows = await s.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(silenceOf);
    },
    async markApplied(id, at) {
      const r = await db
        .updateTable('alert_silences')
        .set({ applied_at: at })
        .where('id', '=', id)
        .where('applied_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
    async unapplied(at) {
      const rows = await db
        .selectFrom('alert_silences')
        .selectAll()
        .where('applied_at', 'is', null)
        .where('starts_at', '<=', at)
        .where('ends_at', '>', at)
        .execute();
      return rows.map(silenceOf);
    },
    async deleteSilence(id) {
      const r = await db.deleteFrom('alert_silences').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
};
