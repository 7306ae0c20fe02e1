import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../db/schema.js';
import type { HostFields, HostRow, HostStore, LivenessRow } from './service.js';

/** The columns of a host row: not the configuration (imports, vars, properties), which the
 * objects' store reads; the fleet's lists read every host and need none of it. */
const HOST_COLUMNS = [
  'id',
  'name',
  'address',
  'created_at',
  'updated_at',
  'display_name',
  'description',
  'environment',
  'tags',
  'port',
  'username',
  'group_id',
  'maintenance_until',
  'maintenance_reason',
  'deleted_at',
] as const;
type Row = Pick<Selectable<Database['hosts']>, (typeof HOST_COLUMNS)[number]>;

/** A stored JSON array of strings; anything else reads as empty. */
function tagsOf(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** A stored row as the service sees it: numbers as numbers (PostgreSQL bigints are text). */
const hostOf = (r: Row): HostRow => ({
  id: r.id,
  name: r.name,
  address: r.address,
  created_at: Number(r.created_at),
  updated_at: Number(r.updated_at),
  display_name: r.display_name,
  description: r.description,
  environment: r.environment,
  tags: tagsOf(r.tags),
  port: num(r.port),
  username: r.username,
  group_id: r.group_id,
  maintenance_until: num(r.maintenance_until),
  maintenance_reason: r.maintenance_reason,
  deleted_at: num(r.deleted_at),
});

/** The columns of the operator-set fields given. */
function columnsOf(f: HostFields): Partial<Row> {
  const out: Partial<Row> = {};
  if (f.address !== undefined) out.address = f.address;
  if (f.display_name !== undefined) out.display_name = f.display_name;
  if (f.description !== undefined) out.description = f.description;
  if (f.environment !== undefined) out.environment = f.environment;
  if (f.tags !== undefined) out.tags = JSON.stringify(f.tags);
  if (f.port !== undefined) out.port = f.port;
  if (f.username !== undefined) out.username = f.username;
  if (f.group_id !== undefined) out.group_id = f.group_id;
  if (f.maintenance_until !== undefined) out.maintenance_until = f.maintenance_until;
  if (f.maintenance_reason !== undefined) out.maintenance_reason = f.maintenance_reason;
  return out;
}

const livenessOf = (r: Selectable<Database['host_liveness']>): LivenessRow => ({
  host_id: r.host_id,
  state: r.state,
  checked_at: Number(r.checked_at),
  consecutive_failures: Number(r.consecutive_failures),
  response_ms: num(r.response_ms),
  error: r.error,
  ssh_ok: num(r.ssh_ok),
});

/**
 * The hosts store on the shared query layer; pass a transaction to write within it. The only
 * place that queries the hosts, liveness and discovery tables; it reads the agents' link to
 * their host (`host_id`, `interval_seconds`) too, for the readers that start from a host or an
 * agent.
 */
export const createHostStore = (db: Kysely<Database>): HostStore => {
  const live = () => db.selectFrom('hosts').select(HOST_COLUMNS).where('deleted_at', 'is', null);
  return {
    async insertIfAbsent(name, at) {
      await db
        .insertInto('hosts')
        .values({ id: randomUUID(), name, address: null, created_at: at, updated_at: at })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
    },

    async insert(row) {
      const r = await db
        .insertInto('hosts')
        .values({
          id: row.id,
          name: row.name,
          created_at: row.created_at,
          updated_at: row.updated_at,
          ...columnsOf(row),
        })
        .onConflict((oc) => oc.column('name').doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async byNameAny(name) {
      const r = await db
        .selectFrom('hosts')
        .selectAll()
        .where('name', '=', name)
        .executeTakeFirst();
      return r && hostOf(r);
    },

    async get(id) {
      const r = await live().where('id', '=', id).executeTakeFirst();
      return r && hostOf(r);
    },

    async update(id, fields, at) {
      await db
        .updateTable('hosts')
        .set({ ...columnsOf(fields), updated_at: at })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .execute();
    },

    async softDelete(id, at) {
      const r = await db
        .updateTable('hosts')
        .set({ deleted_at: at, updated_at: at })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },

    async revive(id, fields, at) {
      await db
        .updateTable('hosts')
        .set({
          address: null,
          display_name: null,
          address6: null,
          description: null,
          environment: null,
          tags: '[]',
          port: null,
          username: null,
          group_id: null,
          imports: '[]',
          vars: '{}',
          properties: '{}',
          disabled: 0,
          api_key_hash: null,
          maintenance_until: null,
          maintenance_reason: null,
          ...columnsOf(fields),
          deleted_at: null,
          updated_at: at,
        })
        .where('id', '=', id)
        .execute();
      // What was known of the host before it was deleted is no longer its state.
      await db.deleteFrom('host_liveness').where('host_id', '=', id).execute();
      await db.deleteFrom('host_discovery').where('host_id', '=', id).execute();
    },

    async page(after, limit) {
      const rows = await live()
        .where('disabled', '=', 0)
        .where('id', '>', after)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(hostOf);
    },

    async summary(id) {
      const row = await db
        .selectFrom('hosts')
        .select(['id', 'name'])
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
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

    async listing() {
      const rows = await db
        .selectFrom('hosts')
        .select([
          'id',
          'name',
          'display_name',
          'address',
          'environment',
          'tags',
          'maintenance_until',
        ])
        .where('deleted_at', 'is', null)
        .where('disabled', '=', 0)
        .execute();
      return rows.map((r) => ({ ...r, tags: tagsOf(r.tags) }));
    },

    async byIds(ids) {
      const out: HostRow[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const rows = await live()
          .where('id', 'in', ids.slice(i, i + 500))
          .execute();
        out.push(...rows.map(hostOf));
      }
      return out;
    },

    async all() {
      return (await live().where('disabled', '=', 0).orderBy('name').execute()).map(hostOf);
    },

    async firstIds(limit) {
      const rows = await db
        .selectFrom('hosts')
        .select('id')
        .where('deleted_at', 'is', null)
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map((r) => r.id);
    },

    async deletedIds() {
      const rows = await db
        .selectFrom('hosts')
        .select('id')
        .where('deleted_at', 'is not', null)
        .execute();
      return rows.map((r) => r.id);
    },

    async livenessAll() {
      const rows = await db.selectFrom('host_liveness').selectAll().execute();
      return new Map(rows.map((r) => [r.host_id, livenessOf(r)]));
    },

    async liveness(hostId) {
      const r = await db
        .selectFrom('host_liveness')
        .selectAll()
        .where('host_id', '=', hostId)
        .executeTakeFirst();
      return r && livenessOf(r);
    },

    async saveLiveness(row) {
      const { host_id: _hostId, ...rest } = row;
      await db
        .insertInto('host_liveness')
        .values(row)
        .onConflict((oc) => oc.column('host_id').doUpdateSet(rest))
        .execute();
    },

    async discovery(hostId) {
      const r = await db
        .selectFrom('host_discovery')
        .selectAll()
        .where('host_id', '=', hostId)
        .executeTakeFirst();
      return r && { ...r, discovered_at: Number(r.discovered_at) };
    },

    async saveDiscovery(row) {
      const { host_id: _hostId, ...rest } = row;
      await db
        .insertInto('host_discovery')
        .values(row)
        .onConflict((oc) => oc.column('host_id').doUpdateSet(rest))
        .execute();
    },
  };
};
