import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Rule } from './rules.js';
import type { RuleStore } from './rules-service.js';

const ruleOf = (r: Selectable<Database['alert_rules']>): Rule => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: Number(r.enabled) === 1,
  kind: r.kind as Rule['kind'],
  metric: r.metric,
  matchers: JSON.parse(r.matchers) as Rule['matchers'],
  comparator: r.comparator as Rule['comparator'],
  warning: r.warning === null ? null : Number(r.warning),
  critical: r.critical === null ? null : Number(r.critical),
  for_seconds: Number(r.for_seconds),
  recovery: r.recovery === null ? null : Number(r.recovery),
  keep_firing_for_seconds: Number(r.keep_firing_for_seconds),
  scope: JSON.parse(r.scope) as Rule['scope'],
  params: JSON.parse(r.params) as Rule['params'],
  builtin: Number(r.builtin) === 1,
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
});

const rowOf = (r: Rule): Database['alert_rules'] => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: r.enabled ? 1 : 0,
  kind: r.kind,
  metric: r.metric,
  matchers: JSON.stringify(r.matchers),
  comparator: r.comparator,
  warning: r.warning,
  critical: r.critical,
  for_seconds: r.for_seconds,
  recovery: r.recovery,
  keep_firing_for_seconds: r.keep_firing_for_seconds,
  scope: JSON.stringify(r.scope),
  params: JSON.stringify(r.params),
  builtin: r.builtin ? 1 : 0,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/** The alert rules store; pass a transaction to write within it. */
export const createRuleStore = (db: Kysely<Database>): RuleStore => ({
  async list() {
    const rows = await db
      .selectFrom('alert_rules')
      .selectAll()
      .orderBy('builtin', 'desc')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(ruleOf);
  },
  async get(id) {
    const r = await db
      .selectFrom('alert_rules')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r && ruleOf(r);
  },
  async insert(rule) {
    await db.insertInto('alert_rules').values(rowOf(rule)).execute();
  },
  async replace(rule) {
    const { id, created_at: _c, builtin: _b, ...rest } = rowOf(rule);
    await db.updateTable('alert_rules').set(rest).where('id', '=', id).execute();
  },
  async delete(id) {
    const r = await db.deleteFrom('alert_rules').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
});
