import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ConfigObject } from './model.js';
import { HOST_COLUMNS, type ObjectStore } from './stored.js';

/** The columns of a host's configuration. */
function hostColumns(o: ConfigObject) {
  const properties = { ...o.properties };
  const cols: Record<(typeof HOST_COLUMNS)[number], string | null> = {
    display_name: null,
    address: null,
    address6: null,
  };
  for (const c of HOST_COLUMNS) {
    const v = properties[c];
    cols[c] = typeof v === 'string' ? v : null;
    delete properties[c];
  }
  return {
    ...cols,
    imports: JSON.stringify(o.imports),
    vars: JSON.stringify(o.vars),
    properties: JSON.stringify(properties),
    disabled: o.disabled ? 1 : 0,
  };
}

const HOST_SELECT = [
  'id',
  'name',
  'address',
  'address6',
  'display_name',
  'imports',
  'vars',
  'properties',
  'disabled',
  'api_key_hash',
  'created_at',
  'updated_at',
] as const;

/** The objects store on the shared query layer; pass a transaction to write within it. */
export const createObjectStore = (db: Kysely<Database>): ObjectStore => ({
  hostByName: (name) =>
    db
      .selectFrom('hosts')
      .select(HOST_SELECT)
      .where('name', '=', name)
      .where('deleted_at', 'is', null)
      .executeTakeFirst(),
  hostById: (id) =>
    db
      .selectFrom('hosts')
      .select(HOST_SELECT)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst(),
  async hosts(q) {
    let query = db.selectFrom('hosts').select(HOST_SELECT).where('deleted_at', 'is', null);
    const words = (q ?? '').toLowerCase().split(' ').filter(Boolean);
    // LIKE narrows the rows (its wildcards in a word may let a few too many through); the
    // exact substring test below decides.
    for (const word of words) {
      const like = `%${word}%`;
      query = query.where((eb) =>
        eb.or(
          (['name', 'display_name', 'address'] as const).map((c) =>
            eb(eb.fn('lower', [eb.ref(c)]), 'like', eb.val(like)),
          ),
        ),
      );
    }
    const rows = await query.orderBy('name').execute();
    return rows.filter((r) =>
      words.every((w) =>
        [r.name, r.display_name, r.address].some((v) => v?.toLowerCase().includes(w)),
      ),
    );
  },
  async insertHost(o, at) {
    const cols = hostColumns(o);
    // Only a deleted row is revived, and only while it is still deleted: a live host of the
    // name (one created meanwhile by a concurrent request) is never overwritten.
    const revived = await db
      .updateTable('hosts')
      .set({ ...cols, deleted_at: null, api_key_hash: null, updated_at: at })
      .where('name', '=', o.object_name)
      .where('deleted_at', 'is not', null)
      .returning('id')
      .executeTakeFirst();
    if (revived) return revived.id;
    const id = randomUUID();
    const r = await db
      .insertInto('hosts')
      .values({ id, name: o.object_name, ...cols, created_at: at, updated_at: at })
      .onConflict((c) => c.column('name').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0 ? id : undefined;
  },
  async updateHost(id, o, at) {
    await db
      .updateTable('hosts')
      .set({ ...hostColumns(o), updated_at: at })
      .where('id', '=', id)
      .execute();
  },
  async deleteHost(id, at) {
    await db
      .updateTable('hosts')
      .set({ deleted_at: at, api_key_hash: null, updated_at: at })
      .where('id', '=', id)
      .execute();
  },
  async claimHostKey(id, hash, at) {
    const r = await db
      .updateTable('hosts')
      .set({ api_key_hash: hash, updated_at: at })
      .where('id', '=', id)
      .where('api_key_hash', 'is', null)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
  hostByKey: (hash) =>
    db
      .selectFrom('hosts')
      .select(HOST_SELECT)
      .where('api_key_hash', '=', hash)
      .where('deleted_at', 'is', null)
      .executeTakeFirst(),

  object: (kind, scope, name) =>
    db
      .selectFrom('config_objects')
      .selectAll()
      .where('kind', '=', kind)
      .where('scope', '=', scope)
      .where('object_name', '=', name)
      .executeTakeFirst(),
  objectById: (id) =>
    db.selectFrom('config_objects').selectAll().where('id', '=', id).executeTakeFirst(),
  async objects(kind, opts = {}) {
    let q = db.selectFrom('config_objects').selectAll().where('kind', '=', kind);
    if (opts.type) q = q.where('object_type', '=', opts.type);
    if (opts.scopes) {
      if (opts.scopes.length === 0) return [];
      q = q.where('scope', 'in', opts.scopes);
    }
    return q.orderBy('object_name').orderBy('scope').execute();
  },
  async insertObject(o, scope, at) {
    const id = randomUUID();
    const r = await db
      .insertInto('config_objects')
      .values({
        id,
        kind: o.kind,
        object_type: o.object_type,
        object_name: o.object_name,
        scope,
        imports: JSON.stringify(o.imports),
        vars: JSON.stringify(o.vars),
        properties: JSON.stringify(o.properties),
        disabled: o.disabled ? 1 : 0,
        api_key_hash: null,
        created_at: at,
        updated_at: at,
      })
      .onConflict((c) => c.columns(['kind', 'scope', 'object_name']).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0 ? id : undefined;
  },
  async updateObject(id, o, scope, at) {
    await db
      .updateTable('config_objects')
      .set({
        scope,
        imports: JSON.stringify(o.imports),
        vars: JSON.stringify(o.vars),
        properties: JSON.stringify(o.properties),
        disabled: o.disabled ? 1 : 0,
        updated_at: at,
      })
      .where('id', '=', id)
      .execute();
  },
  async deleteObject(id) {
    await db.deleteFrom('config_objects').where('id', '=', id).execute();
  },
  async deleteScope(scope) {
    await db.deleteFrom('config_objects').where('scope', '=', scope).execute();
  },
  async setObjectKey(id, hash, at) {
    await db
      .updateTable('config_objects')
      .set({ api_key_hash: hash, updated_at: at })
      .where('id', '=', id)
      .execute();
  },
  objectByKey: (hash) =>
    db
      .selectFrom('config_objects')
      .selectAll()
      .where('api_key_hash', '=', hash)
      .where('kind', '=', 'host')
      .executeTakeFirst(),
  async commandUsersOf(name) {
    return usersOf(db, ['check_command', 'event_command'], (v) => v === name, name);
  },
  async groupMembersOf(name) {
    return usersOf(db, ['groups'], (v) => Array.isArray(v) && v.includes(name), name);
  },
  async importersOf(kind, name) {
    // A cheap filter on the JSON text, made exact on the parsed list.
    const like = `%${JSON.stringify(name)}%`;
    const rows: { name: string; imports: string }[] =
      kind === 'host'
        ? await db
            .selectFrom('hosts')
            .select(['name', 'imports'])
            .where('deleted_at', 'is', null)
            .where('imports', 'like', like)
            .execute()
        : [];
    const objects = await db
      .selectFrom('config_objects')
      .select(['object_name as name', 'imports'])
      .where('kind', '=', kind)
      .where('imports', 'like', like)
      .execute();
    return [...rows, ...objects]
      .filter((r) => (JSON.parse(r.imports) as string[]).includes(name))
      .map((r) => r.name);
  },
});

/**
 * The names of the hosts and objects with one of `keys` among their properties whose value
 * `matches`; a LIKE on the JSON text for `name` narrows the rows first.
 */
async function usersOf(
  db: Kysely<Database>,
  keys: string[],
  matches: (value: unknown) => boolean,
  name: string,
): Promise<string[]> {
  const like = `%${JSON.stringify(name)}%`;
  const hosts = await db
    .selectFrom('hosts')
    .select(['name', 'properties'])
    .where('deleted_at', 'is', null)
    .where('properties', 'like', like)
    .execute();
  const objects = await db
    .selectFrom('config_objects')
    .select(['object_name as name', 'properties'])
    .where('properties', 'like', like)
    .execute();
  return [...hosts, ...objects]
    .filter((r) => {
      const p = JSON.parse(r.properties) as Record<string, unknown>;
      return keys.some((k) => matches(p[k]));
    })
    .map((r) => r.name);
}
