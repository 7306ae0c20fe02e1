import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import {
  TABLE_OF,
  type ConfigObject,
  type ObjectKind,
  type ObjectType,
  type ResolvedObject,
} from './model.js';
import { applyChanges, emptyObject, sameObject } from './properties.js';
import { findCycle, resolve } from './resolve.js';
import {
  hostObject,
  rowObject,
  type ConfigObjectRow,
  type HostConfigRow,
  type ObjectStore,
  type ObjectStores,
} from './stored.js';

/** Names an object: its kind, name and, for a service, the host it is attached to. */
export interface ObjectRef {
  kind: ObjectKind;
  name: string;
  /** A service's host (or host template); absent for a service template and other kinds. */
  host?: string | null;
}

/** What a change did: the object as it is now, and whether anything changed. */
export interface Change {
  object: ConfigObject;
  changed: boolean;
}

/** A service a host runs, and the template of the host it comes from (null: the host's own). */
export interface HostService {
  service: ConfigObject;
  from: string | null;
}

/** A stored object found by reference: where it lives and what it is. */
type Located =
  | { table: 'hosts'; row: HostConfigRow; object: ConfigObject }
  | { table: 'objects'; row: ConfigObjectRow; object: ConfigObject; scope: string };

/** Characters never allowed in an object name (control characters and the backslash). */
// eslint-disable-next-line no-control-regex
const BAD_NAME = /[\u0000-\u001f\u007f\\]/;

function checkObjectName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '')
    throw new VigilError('bad_data', 'object_name is required', { code: 'config.invalid' });
  if (name.length > 255 || BAD_NAME.test(name) || name !== name.trim())
    throw new VigilError(
      'bad_data',
      'object_name must be at most 255 characters, without control characters, backslashes or surrounding spaces',
      { code: 'config.invalid' },
    );
  return name;
}

const failedToLoad = (kind: ObjectKind, name: string): VigilError =>
  new VigilError('not_found', `Failed to load ${TABLE_OF[kind]} "${name}"`, {
    code: 'config.not_found',
  });

/** The audit resource type of an object. */
const resourceOf = (o: { kind: ObjectKind; object_type: ObjectType }): string =>
  o.object_type === 'template' ? `${o.kind}_template` : o.kind;

/**
 * Configuration objects: hosts and their templates, services, commands and host groups, with
 * ordered multiple inheritance (`resolve`). Every face reads and writes them here; each change is
 * validated (names, imports without loops, references to commands, groups and hosts) and audited.
 * Disabled objects are kept but left out of what is resolved for hosts and of deployments;
 * deleted hosts are invisible.
 */
export function createObjectService(deps: {
  store: ObjectStore;
  audited: Audited<ObjectStores>;
  now: () => number;
}) {
  const { store, audited, now } = deps;

  /** The templates of a kind, by name (a fresh read: templates are few). */
  async function templatesOf(s: ObjectStore, kind: ObjectKind): Promise<Map<string, ConfigObject>> {
    const rows = await s.objects(kind, { type: 'template', scopes: [''] });
    return new Map(rows.map((r) => [r.object_name, rowObject(r, null)]));
  }

  /** The scope of a service attached to `host`: the host's id, or its template's. */
  async function scopeOf(s: ObjectStore, host: string): Promise<string | undefined> {
    const h = await s.hostByName(host);
    if (h) return h.id;
    return (await s.object('host', '', host))?.id;
  }

  async function locate(s: ObjectStore, ref: ObjectRef): Promise<Located | undefined> {
    if (ref.kind === 'host') {
      const row = await s.hostByName(ref.name);
      if (row) return { table: 'hosts', row, object: hostObject(row) };
      const t = await s.object('host', '', ref.name);
      return t ? { table: 'objects', row: t, object: rowObject(t, null), scope: '' } : undefined;
    }
    let scope = '';
    if (ref.kind === 'service' && ref.host) {
      const found = await scopeOf(s, ref.host);
      if (found === undefined) throw failedToLoad('host', ref.host);
      scope = found;
    }
    const row = await s.object(ref.kind, scope, ref.name);
    return row
      ? { table: 'objects', row, object: rowObject(row, ref.host ?? null), scope }
      : undefined;
  }

  async function require(s: ObjectStore, ref: ObjectRef): Promise<Located> {
    const found = await locate(s, ref);
    if (!found) throw failedToLoad(ref.kind, ref.name);
    return found;
  }

  /** Checks what an object refers to; returns the scope it is stored in. */
  async function validate(s: ObjectStore, o: ConfigObject): Promise<string> {
    const templates = await templatesOf(s, o.kind);
    if (o.object_type === 'template') templates.set(o.object_name, o);
    for (const name of o.imports)
      if (!templates.has(name))
        throw new VigilError(
          'bad_data',
          `${o.object_name} imports ${name}, which is not a ${o.kind} template`,
          { code: 'config.unknown_import' },
        );
    const loop = findCycle(o, (_k, name) => templates.get(name));
    if (loop)
      throw new VigilError('bad_data', `Loop detected: ${loop.join(' -> ')}`, {
        code: 'config.cycle',
      });
    for (const key of ['check_command', 'event_command'] as const) {
      const name = o.properties[key];
      if (typeof name === 'string' && !(await s.object('command', '', name)))
        throw new VigilError('bad_data', `${key} ${name} is not a command`, {
          code: 'config.unknown_reference',
        });
    }
    const groups = o.properties.groups;
    if (Array.isArray(groups))
      for (const g of groups)
        if (typeof g === 'string' && !(await s.object('hostgroup', '', g)))
          throw new VigilError('bad_data', `group ${g} is not a host group`, {
            code: 'config.unknown_reference',
          });
    if (o.kind !== 'service') return '';
    if (o.object_type === 'template') {
      if (o.host)
        throw new VigilError('bad_data', 'a service template is not attached to a host', {
          code: 'config.invalid',
        });
      return '';
    }
    if (!o.host)
      throw new VigilError('bad_data', 'a service needs the host (or host template) it runs on', {
        code: 'config.invalid',
      });
    const scope = await scopeOf(s, o.host);
    if (scope === undefined) throw failedToLoad('host', o.host);
    return scope;
  }

  /** Refuses a host name that a host template has, and the other way round. */
  async function checkFreeName(s: ObjectStore, o: ConfigObject): Promise<void> {
    if (o.kind !== 'host') return;
    const clash =
      o.object_type === 'object'
        ? await s.object('host', '', o.object_name)
        : await s.hostByName(o.object_name);
    if (clash) throw recreate(o);
  }

  const recreate = (o: ConfigObject): VigilError =>
    new VigilError('conflict', `Trying to recreate ${TABLE_OF[o.kind]} (${o.object_name})`, {
      code: 'config.exists',
    });

  async function write(s: ObjectStore, found: Located, o: ConfigObject, at: number) {
    const scope = await validate(s, o);
    if (found.table === 'hosts') await s.updateHost(found.row.id, o, at);
    else await s.updateObject(found.row.id, o, scope, at);
  }

  return {
    /**
     * The object named by `ref`.
     * @throws VigilError not_found `Failed to load icinga_host "NAME"`.
     */
    async get(ref: ObjectRef): Promise<ConfigObject> {
      return (await require(store, ref)).object;
    },

    /**
     * The host named `name` and whether its resolved configuration gives it an agent
     * (`has_agent`); undefined for no host of that name, a deleted or a disabled one.
     */
    async agentHost(name: string): Promise<{ id: string; hasAgent: boolean } | undefined> {
      const row = await store.hostByName(name);
      if (!row || row.disabled === 1) return undefined;
      const templates = await templatesOf(store, 'host');
      try {
        const r = resolve(hostObject(row), (_k, n) => templates.get(n));
        return { id: row.id, hasAgent: r.properties.has_agent === true };
      } catch {
        // A configuration that no longer resolves gives no agent.
        return { id: row.id, hasAgent: false };
      }
    },

    /** The host with this id as a configuration object; undefined when absent or deleted. */
    async hostById(id: string): Promise<ConfigObject | undefined> {
      const row = await store.hostById(id);
      return row ? hostObject(row) : undefined;
    },

    /**
     * Objects of a kind and type, by name: hosts (`q` matches name, display name or address;
     * every word must match), templates, a host's services, commands (every type), host groups.
     */
    async list(
      kind: ObjectKind,
      opts: { type?: ObjectType; host?: string; q?: string } = {},
    ): Promise<ConfigObject[]> {
      const words = (opts.q ?? '').toLowerCase().split(' ').filter(Boolean);
      if (kind === 'host' && opts.type !== 'template')
        return (await store.hosts(opts.q)).map(hostObject);
      let scopes: string[] | undefined;
      const hostNames = new Map<string, string>();
      if (kind === 'service') {
        if (opts.host) {
          const scope = await scopeOf(store, opts.host);
          if (scope === undefined) throw failedToLoad('host', opts.host);
          scopes = [scope];
          hostNames.set(scope, opts.host);
        }
      } else scopes = [''];
      const rows = await store.objects(kind, {
        ...(kind === 'command' ? {} : { type: opts.type ?? 'object' }),
        ...(scopes ? { scopes } : {}),
      });
      const out: ConfigObject[] = [];
      for (const r of rows) {
        let host: string | null = null;
        if (r.scope !== '') {
          host = hostNames.get(r.scope) ?? null;
          if (host === null) {
            const h = (await store.hostById(r.scope)) ?? undefined;
            const t = h ? undefined : await store.objectById(r.scope);
            host = h?.name ?? t?.object_name ?? null;
            if (host === null) continue;
            hostNames.set(r.scope, host);
          }
        }
        const o = rowObject(r, host);
        const searched = [o.object_name, host, o.properties.command, o.properties.display_name]
          .filter((v): v is string => typeof v === 'string')
          .map((v) => v.toLowerCase());
        if (words.every((w) => searched.some((v) => v.includes(w)))) out.push(o);
      }
      return out;
    },

    /**
     * The object with everything it inherits.
     * @throws VigilError bad_data when its imports loop or name a missing template.
     */
    async resolved(object: ConfigObject): Promise<ResolvedObject> {
      const templates = await templatesOf(store, object.kind);
      return resolve(object, (_k, name) => templates.get(name));
    },

    /**
     * The services a host runs: its own and those attached to the templates it imports (all
     * levels), the host's own winning over a template's of the same name. Disabled services
     * are left out.
     */
    async servicesOf(host: ConfigObject): Promise<HostService[]> {
      const templates = await templatesOf(store, 'host');
      const chain: string[] = [];
      const walk = (names: string[]) => {
        for (const n of names) {
          if (chain.includes(n)) continue;
          const t = templates.get(n);
          if (!t) continue;
          walk(t.imports);
          chain.push(n);
        }
      };
      walk(host.imports);
      const scopes = new Map<string, string | null>();
      const own = await store.hostByName(host.object_name);
      if (own) scopes.set(own.id, null);
      for (const name of chain) {
        const t = await store.object('host', '', name);
        if (t) scopes.set(t.id, name);
      }
      const rows = await store.objects('service', { type: 'object', scopes: [...scopes.keys()] });
      const byName = new Map<string, HostService>();
      // Templates first in import order, the host's own last: later ones take the name.
      const order = [...chain, null];
      rows.sort(
        (a, b) => order.indexOf(scopes.get(a.scope)!) - order.indexOf(scopes.get(b.scope)!),
      );
      for (const r of rows) {
        if (r.disabled === 1) continue;
        const from = scopes.get(r.scope) ?? null;
        byName.set(r.object_name, {
          service: rowObject(r, from ?? host.object_name),
          from,
        });
      }
      return [...byName.values()].sort((a, b) =>
        a.service.object_name.localeCompare(b.service.object_name),
      );
    },

    /**
     * Creates an object from Director-style properties; `type` is the object type when the body
     * names none.
     * @throws VigilError conflict `config.exists` (`Trying to recreate icinga_host (NAME)`).
     */
    create(
      ctx: RequestContext,
      kind: ObjectKind,
      body: Record<string, unknown>,
      type: ObjectType = 'object',
    ): Promise<ConfigObject> {
      const name = checkObjectName(body.object_name);
      const objectType = body.object_type ?? type;
      if (objectType !== 'object' && objectType !== 'template')
        throw new VigilError('bad_data', 'object_type must be object or template', {
          code: 'config.invalid',
        });
      const object = applyChanges(emptyObject(kind, name, objectType), body, true);
      return audited(
        ctx,
        { action: 'config.create', resourceType: resourceOf(object) },
        async (s, draft) => {
          const at = now();
          await checkFreeName(s.objects, object);
          const scope = await validate(s.objects, object);
          const existing = await locate(s.objects, {
            kind,
            name,
            host: object.host,
          });
          if (existing) throw recreate(object);
          const id =
            kind === 'host' && objectType === 'object'
              ? await s.objects.insertHost(object, at)
              : await s.objects.insertObject(object, scope, at);
          // A concurrent request created a host of this name after the check above.
          if (id === undefined) throw recreate(object);
          if (kind === 'host' && objectType === 'object') await s.objects.deleteScope(id);
          draft.entry.resourceId = id;
          draft.entry.detail = { name, ...(object.host ? { host: object.host } : {}) };
          return object;
        },
      );
    },

    /**
     * Changes an object: `merge` sets the given properties (Director's POST), `replace` keeps
     * only its name and type and sets the given ones (PUT). Nothing is written, and `changed`
     * is false, when the result equals the stored object.
     */
    modify(
      ctx: RequestContext,
      ref: ObjectRef,
      body: Record<string, unknown>,
      mode: 'merge' | 'replace',
    ): Promise<Change> {
      return audited(ctx, { action: 'config.update' }, async (s, draft) => {
        const found = await require(s.objects, ref);
        const before = found.object;
        const base =
          mode === 'merge'
            ? before
            : {
                ...emptyObject(before.kind, before.object_name, before.object_type),
                host: before.host,
              };
        const rest = { ...body };
        if (mode === 'replace') {
          // PUT keeps the name and the type whatever the body says about them.
          delete rest.object_name;
          delete rest.object_type;
        }
        const after = applyChanges(base, rest, false);
        draft.entry.resourceType = resourceOf(before);
        draft.entry.resourceId = found.row.id;
        if (sameObject(before, after)) {
          draft.skip();
          return { object: before, changed: false };
        }
        await write(s.objects, found, after, now());
        draft.entry.detail = {
          name: before.object_name,
          mode,
          ...(before.host ? { host: before.host } : {}),
        };
        return { object: after, changed: true };
      });
    },

    /**
     * Deletes an object and answers it as it was: a host is marked deleted (with its services),
     * anything else removed.
     * @throws VigilError conflict `config.in_use` for a template still imported, a command still
     *   run or a host group with members.
     */
    remove(ctx: RequestContext, ref: ObjectRef): Promise<ConfigObject> {
      return audited(ctx, { action: 'config.delete' }, async (s, draft) => {
        const found = await require(s.objects, ref);
        const o = found.object;
        draft.entry.resourceType = resourceOf(o);
        draft.entry.resourceId = found.row.id;
        draft.entry.detail = { name: o.object_name, ...(o.host ? { host: o.host } : {}) };
        if (o.object_type === 'template') {
          const users = await s.objects.importersOf(o.kind, o.object_name);
          if (users.length > 0)
            throw new VigilError(
              'conflict',
              `${o.object_name} is still imported by ${users.slice(0, 10).join(', ')}${users.length > 10 ? ` and ${users.length - 10} more` : ''}`,
              { code: 'config.in_use' },
            );
        }
        const users =
          o.kind === 'command'
            ? await s.objects.commandUsersOf(o.object_name)
            : o.kind === 'hostgroup'
              ? await s.objects.groupMembersOf(o.object_name)
              : [];
        if (users.length > 0)
          throw new VigilError(
            'conflict',
            `${o.object_name} is still used by ${users.slice(0, 10).join(', ')}${users.length > 10 ? ` and ${users.length - 10} more` : ''}`,
            { code: 'config.in_use' },
          );
        if (found.table === 'hosts') {
          await s.objects.deleteHost(found.row.id, now());
          await s.objects.deleteScope(found.row.id);
        } else {
          await s.objects.deleteObject(found.row.id);
          await s.objects.deleteScope(found.row.id);
        }
        return o;
      });
    },
  };
}

/** The configuration objects service. */
export type ObjectService = ReturnType<typeof createObjectService>;
