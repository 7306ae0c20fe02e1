import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { HostAdmin } from './admin.js';
import type { Connectivity } from './connectivity.js';
import type { Discovery } from './discovery-runner.js';
import type { FleetOverview } from './overview.js';
import { HostOverview } from './routes.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const NStr = Nullable(Type.String());
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 100 });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Text = (max: number) => Type.String({ maxLength: max });

const Failure = StringEnum(['refused', 'timeout', 'unreachable', 'auth_failed', 'ssh_error']);

const ConnectivityResult = Type.Object(
  {
    host_id: Type.String(),
    state: StringEnum(['reachable', 'unreachable']),
    checked_at: Type.String({ format: 'date-time' }),
    consecutive_failures: Type.Integer(),
    response_ms: Nullable(Type.Integer()),
    tcp: Type.Object({
      ok: Type.Boolean(),
      address: Type.String(),
      port: Type.Integer(),
      response_ms: Nullable(Type.Integer()),
      error: NStr,
    }),
    ssh: Type.Object({
      attempted: Type.Boolean({ description: 'false when no credential resolves for the host.' }),
      ok: Nullable(Type.Boolean()),
      failure: Nullable(Failure),
      error: NStr,
      credential_id: NStr,
      host_key_fingerprint: Nullable(
        Type.String({ description: "The server's host key (`SHA256:…`), recorded, not verified." }),
      ),
    }),
  },
  { title: 'ConnectivityResult' },
);

const OrNull = Nullable;
/** What discovery found, in the system-info shape. */
export const DiscoveredFacts = Type.Object(
  {
    os: Type.Object({
      name: NStr,
      family: NStr,
      version: NStr,
      kernel: NStr,
      architecture: NStr,
    }),
    cpu: Type.Object({ cores: OrNull(Type.Integer()) }),
    memory: Type.Object({
      total_bytes: OrNull(Type.Number()),
      swap_total_bytes: OrNull(Type.Number()),
    }),
    disks: Type.Array(
      Type.Object({
        device: Type.String(),
        mountpoint: Type.String(),
        fstype: Type.Null(),
        total_bytes: Type.Number(),
        used_percent: OrNull(Type.Number()),
      }),
    ),
    interfaces: Type.Array(
      Type.Object({ name: Type.String(), addresses: Type.Array(Type.String()) }),
    ),
    commands: Type.Record(
      Type.String(),
      Type.Object({
        status: StringEnum(['ok', 'failed', 'skipped']),
        error: Type.Optional(Type.String()),
      }),
    ),
  },
  { title: 'DiscoveredFacts' },
);

const DiscoveryResult = Type.Object(
  {
    host_id: Type.String(),
    ok: Type.Boolean({ description: 'Whether the SSH login succeeded.' }),
    discovered_at: Type.String({ format: 'date-time' }),
    error: NStr,
    credential_id: Type.String(),
    facts: Nullable(DiscoveredFacts),
  },
  { title: 'DiscoveryResult' },
);

/** Creating, changing and deleting hosts; maintenance; connectivity checks and discovery. */
export function hostAdminRoutes(
  app: App,
  deps: {
    admin: HostAdmin;
    overview: FleetOverview;
    connectivity: Connectivity;
    discovery: Discovery;
  },
): void {
  const tags = ['hosts'];
  const { admin, overview } = deps;

  app.post(
    '/api/v1/hosts',
    {
      config: { access: 'host:write' },
      schema: {
        tags,
        summary:
          'Create a host. Host names are unique across environments (one host table): a name in use is 409 `host.duplicate`; the name of a deleted host brings it back with this configuration.',
        body: Type.Object(
          {
            hostname: Type.String({ minLength: 1, maxLength: 253 }),
            ip_address: Type.String({ minLength: 1, maxLength: 253 }),
            port: Type.Optional(Port),
            display_name: Type.Optional(Text(256)),
            description: Type.Optional(Text(4096)),
            environment: Type.Optional(Text(128)),
            tags: Type.Optional(Tags),
            group_id: Type.Optional(Text(128)),
            username: Type.Optional(Text(128)),
          },
          { additionalProperties: false },
        ),
        response: { 201: HostOverview },
      },
    },
    async (request, reply) => {
      const id = await admin.create(contextOf(request), request.body);
      return reply.code(201).send(await overview.get(id));
    },
  );

  app.patch(
    '/api/v1/hosts/:id',
    {
      config: { access: 'host:write' },
      schema: {
        tags,
        summary: 'Change a host; a field given null is cleared.',
        params: Type.Object({ id: Id }),
        body: Type.Object(
          {
            ip_address: Type.Optional(Type.String({ minLength: 1, maxLength: 253 })),
            port: Type.Optional(Nullable(Port)),
            display_name: Type.Optional(Nullable(Text(256))),
            description: Type.Optional(Nullable(Text(4096))),
            environment: Type.Optional(Nullable(Text(128))),
            tags: Type.Optional(Tags),
            group_id: Type.Optional(Nullable(Text(128))),
            username: Type.Optional(Nullable(Text(128))),
          },
          { additionalProperties: false },
        ),
        response: { 200: HostOverview },
      },
    },
    async (request) => {
      await admin.update(contextOf(request), request.params.id, request.body);
      return overview.get(request.params.id);
    },
  );

  app.delete(
    '/api/v1/hosts/:id',
    {
      config: { access: 'host:delete' },
      schema: {
        tags,
        summary:
          'Delete a host (soft delete: it is kept with `deleted_at` set, invisible everywhere; an agent reporting for it, or creating it again, brings it back).',
        params: Type.Object({ id: Id }),
        response: { 204: { type: 'null' } },
      },
    },
    async (request, reply) => {
      await admin.remove(contextOf(request), request.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/hosts/:host_id/maintenance',
    {
      config: { access: 'host:write' },
      schema: {
        tags,
        summary:
          'Turn maintenance on (until `until`, or until turned off) or off; answers the host.',
        params: Type.Object({ host_id: Id }),
        body: Type.Object(
          {
            enabled: Type.Boolean(),
            until: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
            reason: Type.Optional(Nullable(Text(1024))),
          },
          { additionalProperties: false },
        ),
        response: { 200: HostOverview },
      },
    },
    async (request) => {
      await admin.maintenance(contextOf(request), request.params.host_id, request.body);
      return overview.get(request.params.host_id);
    },
  );

  app.post(
    '/api/v1/hosts/:id/connectivity::check',
    {
      config: { access: 'host:write', idempotency: 'required' },
      schema: {
        tags,
        summary:
          'Check a host now: TCP connect to its address and SSH port, then the SSH handshake and login with its resolved credential (when one resolves); records and answers what it found. Needs `Idempotency-Key`.',
        params: Type.Object({ id: Id }),
        response: { 200: ConnectivityResult },
      },
    },
    async (request) => deps.connectivity.check(contextOf(request), request.params.id),
  );

  app.post(
    '/api/v1/hosts/:id/discovery::run',
    {
      config: { access: 'host:write', idempotency: 'required' },
      schema: {
        tags,
        summary:
          "Discover a host now without an agent: SSH in with its resolved credential and run a fixed read-only set (os-release, uname -srm, nproc, /proc/meminfo, df -kP, ip -o addr) of the fact groups collected; the facts become the host's system-info while it has no agent document. Needs `Idempotency-Key`.",
        params: Type.Object({ id: Id }),
        response: { 200: DiscoveryResult },
      },
    },
    async (request) => deps.discovery.run(contextOf(request), request.params.id),
  );
}
