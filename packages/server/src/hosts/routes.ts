import { Type, type TSchema } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import type { App } from '../http/server.js';
import type { SectionReader } from '../telemetry/query/sections.js';
import type { FleetOverview } from './overview.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const NNum = Nullable(Type.Number());
const NStr = Nullable(Type.String());
const NTime = Nullable(Type.String({ format: 'date-time' }));
const HostId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const Spark = Type.Array(NNum, {
  description: 'The last 30 minutes, one 1-minute average a point, oldest first; null: no data.',
});

/** One host of the list and of its detail: configuration, liveness, status and figures. */
export const HostOverview = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    hostname: Type.String({ description: "The name again, under OpenWatch's word." }),
    display_name: NStr,
    ip_address: Nullable(
      Type.String({ description: 'The address connectivity checks and discovery connect to.' }),
    ),
    port: Nullable(Type.Integer({ description: 'The SSH port; null means 22.' })),
    environment: NStr,
    tags: Type.Array(Type.String()),
    description: NStr,
    group_id: NStr,
    username: NStr,
    maintenance: Type.Object({
      enabled: Type.Boolean(),
      until: Nullable(Type.String({ format: 'date-time', description: 'null: until turned off.' })),
      reason: NStr,
    }),
    liveness: Type.Object({
      state: StringEnum(['reachable', 'unreachable', 'unknown', 'never_probed'], {
        description:
          'As last probed; unknown for a host without an address; never_probed before its first probe.',
      }),
      checked_at: NTime,
      consecutive_failures: Type.Integer(),
      response_ms: Nullable(Type.Integer({ description: 'TCP connect time of the last probe.' })),
    }),
    compliance: Type.Object(
      {
        framework: Nullable(
          Type.String({ description: 'The framework asked for (`framework`), null for none.' }),
        ),
        passing: Type.Integer({ description: 'Rules that pass.' }),
        failing: Type.Integer({ description: 'Rules that fail.' }),
        errors: Type.Integer({ description: 'Rules the agent could not evaluate.' }),
        not_applicable: Type.Integer({
          description: "Rules that do not apply to the host's system.",
        }),
        total: Type.Integer({
          description: 'Every rule state counted: passing + failing + errors + not_applicable.',
        }),
        score: Nullable(
          Type.Number({
            minimum: 0,
            maximum: 1,
            description: 'passing / (passing + failing); null with neither.',
          }),
        ),
        evaluated_at: Nullable(
          Type.String({
            format: 'date-time',
            description: 'The newest evaluation counted; null with none.',
          }),
        ),
      },
      {
        description:
          "Compliance summary: the host's current rule states (as its agent last reported them) of the loaded compliance packs' rules; with `framework`, of the rules of the pack with that id or one of whose references' framework contains it (any case). An unknown framework counts nothing.",
      },
    ),
    created_at: Type.String({ format: 'date-time' }),
    status: StringEnum(['online', 'offline', 'pending', 'unknown'], {
      description:
        'online when any approved agent is, pending when all its agents are, unknown with no agent; offline otherwise.',
    }),
    agents: Type.Array(
      Type.Object({
        id: Type.String(),
        name: Type.String(),
        kind: Type.String(),
        status: Type.String(),
        version: NStr,
      }),
    ),
    os: Type.Object({
      name: NStr,
      family: NStr,
      version: NStr,
      kernel: NStr,
      architecture: NStr,
    }),
    uptime_seconds: Nullable(
      Type.Number({ description: 'As of the newest document this server holds.' }),
    ),
    last_seen: NTime,
    latest: Type.Object({
      cpu_percent: NNum,
      memory_percent: NNum,
      swap_percent: NNum,
      disk_percent: Nullable(Type.Number({ description: 'The fullest mount.' })),
      load1: NNum,
      net_rx_bytes_per_second: NNum,
      net_tx_bytes_per_second: NNum,
    }),
    checks: Type.Object({
      ok: Type.Integer(),
      warning: Type.Integer(),
      critical: Type.Integer(),
      unknown: Type.Integer(),
    }),
    sparklines: Type.Object({
      cpu: Spark,
      memory: Spark,
      disk: Spark,
      network: Type.Array(NNum, { description: 'Received plus sent bytes per second.' }),
    }),
  },
  { title: 'HostOverview' },
);

/** The head of an answer read from a host's newest document. */
const FromDocument = {
  agent_id: Nullable(Type.String({ description: 'The agent whose document this is.' })),
  collected_at: NTime,
};

const Process = Type.Object(
  {
    pid: NNum,
    ppid: NNum,
    name: NStr,
    user: NStr,
    status: NStr,
    cpu_percent: NNum,
    memory_percent: NNum,
    rss_bytes: NNum,
    vms_bytes: NNum,
    threads: NNum,
    started_at: NTime,
    cmdline: NStr,
  },
  { title: 'HostProcess' },
);
const Container = Type.Object(
  {
    id: NStr,
    name: NStr,
    image: NStr,
    state: NStr,
    status: NStr,
    cpu_percent: NNum,
    memory_used_bytes: NNum,
    memory_percent: NNum,
    network_rx_bytes: Nullable(Type.Number({ description: 'Since the container started.' })),
    network_tx_bytes: Nullable(Type.Number({ description: 'Since the container started.' })),
    disk_read_bytes: Nullable(Type.Number({ description: 'Since the container started.' })),
    disk_write_bytes: Nullable(Type.Number({ description: 'Since the container started.' })),
  },
  { title: 'HostContainer' },
);
const Service = Type.Object(
  {
    name: NStr,
    description: NStr,
    load_state: NStr,
    active_state: NStr,
    sub_state: NStr,
    unit_file_state: NStr,
  },
  { title: 'HostService' },
);
const Packages = Type.Object(
  {
    agent_id: NStr,
    received_at: NTime,
    summary: Type.Object({
      installed: NNum,
      upgradable: NNum,
      security_updates: NNum,
      reboot_required: Nullable(Type.Boolean()),
      last_update: NTime,
    }),
    installed: Type.Array(Type.Object({ name: NStr, version: NStr, description: NStr })),
    updates: Type.Array(
      Type.Object({
        name: NStr,
        current_version: NStr,
        new_version: NStr,
        security: Type.Boolean(),
      }),
    ),
  },
  { title: 'HostPackages' },
);

/** The fleet overview and what the console lists of one host (`/api/v1/hosts…`). */
export function hostRoutes(
  app: App,
  deps: { overview: FleetOverview; sections: SectionReader },
): void {
  const tags = ['hosts'];
  const { overview, sections } = deps;

  app.get(
    '/api/v1/hosts',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          "Every host by name, with its configuration, liveness, compliance summary, status, system, newest figures, check counts and 30-minute sparklines; `framework` limits the compliance summaries to a framework's rules; `q` filters by a substring of the name, display name or address, `status` by status, `environment` and `tag` exactly; `total` counts the matches; `next_cursor` continues after `limit` (null at the end).",
        querystring: Type.Object({
          q: Type.Optional(Type.String({ maxLength: 256 })),
          status: Type.Optional(StringEnum(['online', 'offline', 'pending', 'unknown'])),
          environment: Type.Optional(Type.String({ maxLength: 128 })),
          tag: Type.Optional(Type.String({ maxLength: 128 })),
          framework: Type.Optional(
            Type.String({
              maxLength: 128,
              description:
                "The compliance framework of every item's summary: a pack id, or text of a rule reference's framework (any case).",
            }),
          ),
          cursor: Type.Optional(Type.String({ maxLength: 1024 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 100 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(HostOverview),
            total: Type.Integer(),
            next_cursor: NStr,
          }),
        },
      },
    },
    async (request) => overview.list(request.query),
  );

  app.get(
    '/api/v1/hosts/:id',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          "One host as the fleet overview shows it (host detail with liveness and compliance summary); `framework` limits its compliance summary to the rules of the pack with that id or one of whose references' framework contains it (any case).",
        params: HostId,
        querystring: Type.Object({
          framework: Type.Optional(
            Type.String({
              maxLength: 128,
              description: "A pack id, or text of a rule reference's framework (any case).",
            }),
          ),
        }),
        response: { 200: HostOverview },
      },
    },
    async (request) => overview.get(request.params.id, request.query.framework),
  );

  app.get(
    '/api/v1/hosts/:id/processes',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary: "The processes of the host's newest document.",
        params: HostId,
        response: { 200: Type.Object({ ...FromDocument, items: Type.Array(Process) }) },
      },
    },
    async (request) => sections.processes(request.params.id),
  );

  app.get(
    '/api/v1/hosts/:id/containers',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary: "The Docker containers of the host's newest document.",
        params: HostId,
        response: { 200: Type.Object({ ...FromDocument, items: Type.Array(Container) }) },
      },
    },
    async (request) => sections.containers(request.params.id),
  );

  app.get(
    '/api/v1/hosts/:id/services',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary: "The systemd services of the host's newest document.",
        params: HostId,
        response: { 200: Type.Object({ ...FromDocument, items: Type.Array(Service) }) },
      },
    },
    async (request) => sections.services(request.params.id),
  );

  app.get(
    '/api/v1/hosts/:id/packages',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          "The host's package inventory (the newest of its agents'): summary, installed packages and pending updates; `q` filters both by a name substring.",
        params: HostId,
        querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 256 })) }),
        response: { 200: Packages },
      },
    },
    async (request) => sections.packages(request.params.id, request.query.q),
  );
}
