import type { FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../../errors.js';
import { contextOf } from '../../http/context.js';
import { phpPrettyJson } from '../../http/errors.js';
import type {
  ConfigObject,
  Json,
  ObjectKind,
  ObjectType,
  ResolvedObject,
} from '../../objects/model.js';
import { HAS_VARS, PROPERTIES } from '../../objects/properties.js';
import type { ObjectService } from '../../objects/service.js';
import { requireJsonBody, sendJson, type DirectorModule } from './http.js';

// Director's object endpoints (`director/host`, `director/hosts` …) over the configuration
// objects. An object is answered as Director's `toPlainObject` ships it: top-level keys sorted,
// unset properties left out (all of them, as null, with `properties=all`), booleans as JSON
// booleans, numbers and intervals as strings, relations by name, `vars` in the order they were set.

/** What the endpoints need of the configuration objects. Declared here, where it is used. */
export type DirectorObjects = Pick<
  ObjectService,
  'get' | 'list' | 'resolved' | 'servicesOf' | 'create' | 'modify' | 'remove'
>;

/** One object endpoint: its kind, and the type it answers (undefined: either). */
interface Endpoint {
  path: string;
  kind: ObjectKind;
  type?: ObjectType;
  /** The type an object created here gets when its body names none. */
  creates: ObjectType;
}

const ENDPOINTS: Endpoint[] = [
  { path: '/host', kind: 'host', creates: 'object' },
  { path: '/hosttemplate', kind: 'host', type: 'template', creates: 'template' },
  { path: '/service', kind: 'service', creates: 'object' },
  { path: '/servicetemplate', kind: 'service', type: 'template', creates: 'template' },
  { path: '/command', kind: 'command', creates: 'object' },
  { path: '/hostgroup', kind: 'hostgroup', creates: 'object' },
];

/** The list endpoints: kind, type filter, and whether `?host=` narrows them. */
const LISTS: { path: string; kind: ObjectKind; type?: ObjectType }[] = [
  { path: '/hosts', kind: 'host' },
  { path: '/hosts/templates', kind: 'host', type: 'template' },
  { path: '/services', kind: 'service' },
  { path: '/services/templates', kind: 'service', type: 'template' },
  { path: '/servicetemplates', kind: 'service', type: 'template' },
  { path: '/commands', kind: 'command' },
  { path: '/hostgroups', kind: 'hostgroup' },
];

/** How an answer shows objects (Director's `RestApiParams`). */
interface ExportOptions {
  /** Inherited values filled in (`resolved`). */
  resolved: boolean;
  /**
   * Unset properties shown as null (`properties=all`, or newer Director's `withNull`), or only
   * these (`properties=a,b`).
   */
  properties: 'set' | 'all' | string[];
  /** A host's services beside it (`withServices`). */
  withServices: boolean;
}

/** A query parameter as a flag: present (`&resolved`, `resolved=1`) and not `0`/`false`. */
function flag(query: Record<string, unknown>, name: string): boolean {
  const v = query[name];
  if (v === undefined) return false;
  const s = Array.isArray(v) ? String(v[v.length - 1]) : String(v);
  return !['0', 'false', 'n', 'no'].includes(s.toLowerCase());
}

/** A query parameter as text; undefined when absent or empty. */
function text(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  const s = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof s === 'string' && s !== '' ? s : undefined;
}

/** The export options of a request's query. */
function exportOptions(query: Record<string, unknown>): ExportOptions {
  const props = text(query, 'properties');
  return {
    resolved: flag(query, 'resolved') || flag(query, 'resolve'),
    properties:
      props === undefined
        ? flag(query, 'withNull')
          ? 'all'
          : 'set'
        : props.toLowerCase() === 'all'
          ? 'all'
          : props
              .split(',')
              .map((p) => p.trim())
              .filter(Boolean),
    withServices: flag(query, 'withServices'),
  };
}

/** Sorts an object's keys as PHP's ksort does (byte order). */
const sorted = (o: Record<string, Json>): Record<string, Json> =>
  Object.fromEntries(
    Object.keys(o)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((k) => [k, o[k]!]),
  );

/**
 * An object as Director ships it: `resolved` gives its inherited properties and vars (its
 * imports stay listed, as the document's example shows); `withNull` shows every property of
 * its kind, unset ones as null.
 */
export function plainObject(
  o: ConfigObject,
  resolved: ResolvedObject | undefined,
  withNull: boolean,
): Record<string, Json> {
  const props: Record<string, Json> = {
    object_name: o.object_name,
    object_type: o.object_type,
  };
  const values = resolved?.properties ?? o.properties;
  const vars = resolved?.vars ?? o.vars;
  for (const [key, type] of Object.entries(PROPERTIES[o.kind])) {
    const v = values[key];
    if (v !== undefined && v !== null) props[key] = v;
    else if (withNull) props[key] = type === 'names' ? [] : null;
  }
  if (o.kind === 'service' && (o.host !== null || withNull)) props.host = o.host;
  if (o.disabled || withNull) props.disabled = o.disabled;
  if (o.imports.length > 0 || withNull) props.imports = [...o.imports];
  if (HAS_VARS[o.kind] && (Object.keys(vars).length > 0 || withNull)) props.vars = vars;
  return sorted(props);
}

/** Answers objects as Director's list handler streams them: `{ "objects": [ … ] }`. */
function sendList(reply: FastifyReply, items: Record<string, Json>[]): FastifyReply {
  const objects = items.map((o) => phpPrettyJson(o).slice(0, -1)).join(', ');
  return reply
    .code(200)
    .type('application/json')
    .send(Buffer.from(`{ "objects": [ ${objects}] }\n`));
}

/** The object endpoints and lists of the face, over `objects`. */
export function directorObjectRoutes(objects: DirectorObjects): DirectorModule {
  /** An object exported with the request's options. */
  async function exported(o: ConfigObject, opts: ExportOptions): Promise<Record<string, Json>> {
    const resolved = opts.resolved ? await objects.resolved(o) : undefined;
    let out = plainObject(o, resolved, opts.properties !== 'set');
    if (opts.withServices) {
      if (o.kind !== 'host')
        throw new VigilError('bad_data', 'withServices is available for Hosts only', {
          code: 'director.invalid_parameter',
        });
      const services = await objects.servicesOf(o);
      out.services = await Promise.all(
        services.map((s) => exported(s.service, { ...opts, withServices: false })),
      );
      out = sorted(out);
    }
    if (Array.isArray(opts.properties)) {
      const chosen = opts.properties;
      out = Object.fromEntries(Object.entries(out).filter(([k]) => chosen.includes(k)));
    }
    return out;
  }

  /** The object a request names (`name`, and `host` for a service). */
  async function load(ep: Endpoint, query: Record<string, unknown>): Promise<ConfigObject> {
    const name = text(query, 'name');
    if (name === undefined)
      throw new VigilError('bad_data', 'Object is required: give its name as ?name=', {
        code: 'director.invalid_parameter',
      });
    const host = ep.kind === 'service' ? (text(query, 'host') ?? null) : null;
    const o = await objects.get({ kind: ep.kind, name, host });
    if (ep.type && o.object_type !== ep.type)
      throw new VigilError('not_found', `Failed to load icinga_${ep.kind} "${name}"`, {
        code: 'config.not_found',
      });
    return o;
  }

  return (router) => {
    for (const ep of ENDPOINTS) {
      const query = (request: FastifyRequest) => request.query as Record<string, unknown>;
      router.route({
        method: 'GET',
        path: ep.path,
        access: 'config:read',
        handler: async (request, reply) => {
          const o = await load(ep, query(request));
          return sendJson(reply, 200, await exported(o, exportOptions(query(request))));
        },
      });
      router.route({
        method: ['POST', 'PUT'],
        path: ep.path,
        access: 'config:write',
        handler: async (request, reply) => {
          const body = requireJsonBody(request);
          const q = query(request);
          const ctx = contextOf(request);
          if (text(q, 'name') === undefined) {
            const input =
              ep.kind === 'service' && body.host === undefined && text(q, 'host') !== undefined
                ? { ...body, host: text(q, 'host') }
                : body;
            const created = await objects.create(ctx, ep.kind, input, ep.creates);
            return sendJson(reply, 201, plainObject(created, undefined, false));
          }
          const before = await load(ep, q);
          const change = await objects.modify(
            ctx,
            { kind: ep.kind, name: before.object_name, host: before.host },
            body,
            request.method === 'PUT' ? 'replace' : 'merge',
          );
          if (!change.changed) return reply.code(304).send();
          return sendJson(reply, 200, plainObject(change.object, undefined, false));
        },
      });
      router.route({
        method: 'DELETE',
        path: ep.path,
        access: 'config:write',
        handler: async (request, reply) => {
          const o = await load(ep, query(request));
          const removed = await objects.remove(contextOf(request), {
            kind: ep.kind,
            name: o.object_name,
            host: o.host,
          });
          return sendJson(reply, 200, plainObject(removed, undefined, false));
        },
      });
    }
    for (const list of LISTS) {
      router.route({
        method: 'GET',
        path: list.path,
        access: 'config:read',
        handler: async (request, reply) => {
          const q = request.query as Record<string, unknown>;
          const host = list.kind === 'service' ? text(q, 'host') : undefined;
          const search = text(q, 'q');
          const found = await objects.list(list.kind, {
            ...(list.type ? { type: list.type } : {}),
            ...(host !== undefined ? { host } : {}),
            ...(search !== undefined ? { q: search } : {}),
          });
          const opts = exportOptions(q);
          const items: Record<string, Json>[] = [];
          for (const o of found) items.push(await exported(o, opts));
          return sendList(reply, items);
        },
      });
    }
  };
}
