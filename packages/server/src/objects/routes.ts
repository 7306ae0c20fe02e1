import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { ConfigObject, ObjectKind, ObjectType } from './model.js';
import { applyChanges, emptyObject } from './properties.js';
import {
  ConfigObjectSchema,
  CreateBody,
  HostIdParams,
  NameParams,
  ObjectList,
  PatchBody,
  PreviewBody,
  ReplaceBody,
  ResolvedSchema,
} from './schemas.js';
import type { ObjectService } from './service.js';

/** An object as a body describes it (create, replace, patch or preview). */
interface ObjectBody {
  kind?: ObjectKind;
  object_name?: string;
  object_type?: ObjectType;
  host?: string | null;
  imports?: string[];
  vars?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  disabled?: boolean;
}

/** A collection of the API: its path, the kind it holds and the type it is limited to. */
interface Collection {
  path: string;
  kind: ObjectKind;
  /** The only type the collection holds; undefined: both (commands). */
  type?: ObjectType;
  /** What one item is called in summaries. */
  noun: string;
  tag: string;
}

const COLLECTIONS: Collection[] = [
  { path: 'host-templates', kind: 'host', type: 'template', noun: 'host template', tag: 'config' },
  {
    path: 'service-templates',
    kind: 'service',
    type: 'template',
    noun: 'service template',
    tag: 'config',
  },
  { path: 'services', kind: 'service', type: 'object', noun: 'service', tag: 'config' },
  { path: 'commands', kind: 'command', noun: 'check command', tag: 'config' },
  { path: 'host-groups', kind: 'hostgroup', type: 'object', noun: 'host group', tag: 'config' },
];

const invalid = (message: string): VigilError =>
  new VigilError('bad_data', message, { code: 'config.invalid' });

/**
 * The changes a body makes, in the vocabulary the object service takes (Director's): `merge`
 * sets each value of `properties` and `vars` on its own (null removes it), `replace` gives the
 * whole object.
 */
export function changesOf(
  kind: ObjectKind,
  body: ObjectBody,
  mode: 'merge' | 'replace',
): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  // Only services have a host; the null every other kind shows is accepted back.
  if (body.host !== undefined && (kind === 'service' || body.host !== null))
    changes.host = body.host;
  if (body.imports !== undefined) changes.imports = body.imports;
  if (body.disabled !== undefined) changes.disabled = body.disabled;
  for (const [k, v] of Object.entries(body.properties ?? {})) {
    if (['object_name', 'object_type', 'imports', 'vars', 'disabled', 'host'].includes(k))
      throw invalid(`${k} is a field of the object, not one of its properties`);
    if (k.startsWith('vars.') || k.startsWith('arguments.'))
      throw invalid(`property ${k}: dotted keys are Director's; set vars and arguments whole`);
    changes[k] = v;
  }
  if (mode === 'replace') {
    if (body.vars !== undefined && Object.keys(body.vars).length > 0) changes.vars = body.vars;
  } else for (const [k, v] of Object.entries(body.vars ?? {})) changes[`vars.${k}`] = v;
  return changes;
}

/** Refuses a body that names another object than the one it changes. */
function checkSame(body: ObjectBody, o: ConfigObject): void {
  if (body.kind !== undefined && body.kind !== o.kind)
    throw invalid(`this is a ${o.kind}, not a ${body.kind}`);
  if (body.object_name !== undefined && body.object_name !== o.object_name)
    throw invalid('object_name cannot be changed: create the object anew under its new name');
  if (body.object_type !== undefined && body.object_type !== o.object_type)
    throw invalid('object_type cannot be changed');
}

/** The `host` of a query, for services; undefined when absent or empty. */
const hostOf = (request: FastifyRequest): string | undefined => {
  const h = (request.query as { host?: string }).host;
  return h === undefined || h === '' ? undefined : h;
};

/**
 * The native configuration API: templates, services, commands and host groups as collections
 * (`/api/v1/host-templates` …), a host's configuration (`/api/v1/hosts/{id}/config`) with its
 * resolved form, and the inheritance preview of an unsaved object.
 */
export function configRoutes(app: App, deps: { objects: ObjectService }): void {
  const { objects } = deps;

  /** The item a request names in a collection. */
  async function item(c: Collection, name: string, host: string | undefined) {
    const o = await objects.get({ kind: c.kind, name, host: c.kind === 'service' ? host : null });
    if (c.type && o.object_type !== c.type)
      throw new VigilError('not_found', `${name} is not a ${c.noun}`, {
        code: 'config.not_found',
      });
    return o;
  }

  /** The host with this id, as a configuration object. */
  async function hostConfig(id: string): Promise<ConfigObject> {
    const o = await objects.hostById(id);
    if (!o) throw new VigilError('not_found', `no host ${id}`, { code: 'host.not_found' });
    return o;
  }

  /** An object with what it inherits, and a host's services. */
  async function resolvedView(o: ConfigObject) {
    const r = await objects.resolved(o);
    const services =
      o.kind === 'host' && o.object_type === 'object' ? await objects.servicesOf(o) : [];
    return {
      object: r.object,
      properties: r.properties,
      vars: r.vars,
      origins: r.origins,
      services,
    };
  }

  const hostQuery = Type.Object({
    host: Type.Optional(
      Type.String({
        maxLength: 255,
        description: 'The host (or host template) the service is attached to; absent for none.',
      }),
    ),
  });

  for (const c of COLLECTIONS) {
    const base = `/api/v1/${c.path}`;
    const services = c.kind === 'service';
    const tags = [c.tag];
    app.get(
      base,
      {
        config: { access: 'config:read' },
        schema: {
          tags,
          summary: `Every ${c.noun} by name; \`q\` keeps those whose name (or display name, command line${services ? ', host' : ''}) contains each of its words.${services ? ' `host` narrows to the services attached to that host or host template.' : ''}`,
          querystring: Type.Object({
            q: Type.Optional(Type.String({ maxLength: 256 })),
            ...(services ? hostQuery.properties : {}),
          }),
          response: { 200: ObjectList },
        },
      },
      async (request) => {
        const q = (request.query as { q?: string }).q;
        const host = services ? hostOf(request) : undefined;
        const items = await objects.list(c.kind, {
          ...(c.type ? { type: c.type } : {}),
          ...(host !== undefined ? { host } : {}),
          ...(q ? { q } : {}),
        });
        return { items: c.type ? items.filter((o) => o.object_type === c.type) : items };
      },
    );
    app.post(
      base,
      {
        config: { access: 'config:write' },
        schema: {
          tags,
          summary: `Create a ${c.noun}${services ? ' (attached to `host`)' : ''}; 409 when the name is taken.`,
          body: CreateBody,
          response: { 201: ConfigObjectSchema },
        },
      },
      async (request, reply) => {
        const body = request.body as ObjectBody;
        if (c.type && body.object_type !== undefined && body.object_type !== c.type)
          throw invalid(
            c.kind === 'host'
              ? 'object_type must be template here: hosts are created with POST /api/v1/hosts'
              : `object_type must be ${c.type} here`,
          );
        const created = await objects.create(
          contextOf(request),
          c.kind,
          {
            object_name: body.object_name,
            object_type: body.object_type ?? c.type ?? 'object',
            ...changesOf(c.kind, body, 'replace'),
          },
          c.type ?? 'object',
        );
        return reply.code(201).send(created);
      },
    );
    const itemUrl = `${base}/:name`;
    const itemQuery = services ? { querystring: hostQuery } : {};
    app.get(
      itemUrl,
      {
        config: { access: 'config:read' },
        schema: {
          tags,
          summary: `One ${c.noun}.`,
          params: NameParams,
          ...itemQuery,
          response: { 200: ConfigObjectSchema },
        },
      },
      async (request) => item(c, request.params.name, hostOf(request)),
    );
    for (const mode of ['merge', 'replace'] as const) {
      const route = mode === 'merge' ? app.patch.bind(app) : app.put.bind(app);
      route(
        itemUrl,
        {
          config: { access: 'config:write' },
          schema: {
            tags,
            summary:
              mode === 'merge'
                ? `Change a ${c.noun}: a JSON merge patch of the object (each key of \`properties\` and \`vars\` on its own, null removes it; \`imports\` replaced).`
                : `Replace a ${c.noun}: everything but its name and type is the body's.`,
            params: NameParams,
            ...itemQuery,
            body: mode === 'merge' ? PatchBody : ReplaceBody,
            response: { 200: ConfigObjectSchema },
          },
        },
        async (request) => {
          const { name } = request.params as { name: string };
          const before = await item(c, name, hostOf(request));
          const body = request.body as ObjectBody;
          checkSame(body, before);
          const change = await objects.modify(
            contextOf(request),
            { kind: c.kind, name, host: before.host },
            changesOf(c.kind, body, mode),
            mode,
          );
          return change.object;
        },
      );
    }
    app.delete(
      itemUrl,
      {
        config: { access: 'config:write' },
        schema: {
          tags,
          summary: `Delete a ${c.noun}; 409 while${c.type === 'template' ? ' objects import it' : ' it is in use'}.`,
          params: NameParams,
          ...itemQuery,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        const before = await item(c, request.params.name, hostOf(request));
        await objects.remove(contextOf(request), {
          kind: c.kind,
          name: before.object_name,
          host: before.host,
        });
        return reply.code(204).send();
      },
    );
  }

  const hostTags = ['config'];
  app.get(
    '/api/v1/hosts/:id/config',
    {
      config: { access: 'config:read' },
      schema: {
        tags: hostTags,
        summary: "The host's configuration: its imports, vars, properties and whether disabled.",
        params: HostIdParams,
        response: { 200: ConfigObjectSchema },
      },
    },
    async (request) => hostConfig(request.params.id),
  );
  for (const mode of ['merge', 'replace'] as const) {
    const route = mode === 'merge' ? app.patch.bind(app) : app.put.bind(app);
    route(
      '/api/v1/hosts/:id/config',
      {
        config: { access: 'config:write' },
        schema: {
          tags: hostTags,
          summary:
            mode === 'merge'
              ? "Change the host's configuration: a JSON merge patch (each key of `properties` and `vars` on its own, null removes it; `imports` replaced)."
              : "Replace the host's configuration: everything but its name is the body's.",
          params: HostIdParams,
          body: mode === 'merge' ? PatchBody : ReplaceBody,
          response: { 200: ConfigObjectSchema },
        },
      },
      async (request) => {
        const before = await hostConfig((request.params as { id: string }).id);
        const body = request.body as ObjectBody;
        checkSame(body, before);
        if (body.host !== undefined && body.host !== null)
          throw invalid('a host has no host field');
        const change = await objects.modify(
          contextOf(request),
          { kind: 'host', name: before.object_name },
          changesOf('host', body, mode),
          mode,
        );
        return change.object;
      },
    );
  }
  app.get(
    '/api/v1/hosts/:id/config/resolved',
    {
      config: { access: 'config:read' },
      schema: {
        tags: hostTags,
        summary:
          'The host with everything it inherits: each property and var with the template it comes from, and the services it runs.',
        params: HostIdParams,
        response: { 200: ResolvedSchema },
      },
    },
    async (request) => resolvedView(await hostConfig(request.params.id)),
  );
  app.post(
    '/api/v1/config/preview',
    {
      config: { access: 'config:read', idempotency: false },
      schema: {
        tags: hostTags,
        summary:
          'What an unsaved object would inherit (the console’s preview while editing): the resolved form, nothing stored. A host named like a stored one shows that host’s own services too.',
        body: PreviewBody,
        response: { 200: ResolvedSchema },
      },
    },
    async (request) => {
      const { kind, object } = request.body as { kind: ObjectKind; object: ObjectBody };
      const type = object.object_type ?? 'object';
      const draft = applyChanges(
        emptyObject(kind, object.object_name ?? 'preview', type),
        changesOf(kind, object, 'replace'),
        false,
      );
      return resolvedView(draft);
    },
  );
}
