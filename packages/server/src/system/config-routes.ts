import { Type } from '@sinclair/typebox';
import { StringEnum } from '@vigil/protocol';
import type { ConnectivityStatus } from '../hosts/connectivity.js';
import type { SweepQueued } from '../hosts/discovery-runner.js';
import type { RequestContext } from '../audit/service.js';
import { contextOf } from '../http/context.js';
import type { App } from '../http/server.js';
import type { SettingsService } from './settings.js';

const NTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const Connectivity = Type.Object(
  {
    enabled: Type.Boolean(),
    interval_seconds: Type.Integer({ description: '10 to 86400: between two sweeps.' }),
    timeout_seconds: Type.Integer({
      description: '1 to 120, shorter than interval_seconds: for one probe (TCP, then SSH).',
    }),
    concurrency: Type.Integer({ description: '1 to 256: hosts probed at once.' }),
  },
  { title: 'ConnectivityConfig' },
);
const Facts = Type.Object({
  os: Type.Boolean({ description: 'os-release and uname.' }),
  hardware: Type.Boolean({ description: 'nproc and /proc/meminfo.' }),
  storage: Type.Boolean({ description: 'df.' }),
  network: Type.Boolean({ description: 'ip addr.' }),
});
const Changes = Type.Object(
  {
    packages: Type.Boolean({
      description: 'package.installed, package.removed, package.upgraded.',
    }),
    kernel: Type.Boolean({ description: 'kernel.changed.' }),
    reboot: Type.Boolean({ description: 'host.rebooted.' }),
    ports: Type.Boolean({ description: 'port.opened, port.closed.' }),
    users: Type.Boolean({ description: 'user.added, user.removed.' }),
    units: Type.Boolean({ description: 'unit.failed, unit.recovered.' }),
  },
  { description: 'Per kind, whether the changes seen on hosts are recorded as events.' },
);
const Intelligence = Type.Object(
  {
    interval_seconds: Type.Integer({
      description:
        "60 to 2592000: how old a host's discovered facts may grow before the periodic discovery sweep collects them again.",
    }),
    facts: Facts,
    changes: Changes,
  },
  { title: 'IntelligenceConfig' },
);
const Discovery = Type.Object(
  {
    enabled: Type.Boolean({ description: 'Whether the periodic discovery sweep runs.' }),
    interval_seconds: Type.Integer({ description: '300 to 2592000: between two sweeps.' }),
    concurrency: Type.Integer({ description: '1 to 64: hosts discovered at once.' }),
  },
  { title: 'DiscoveryConfig' },
);
/** A change: any subset of the fields, with no other type check than JSON's (the service checks ranges). */
const partial = (o: typeof Connectivity | typeof Discovery) =>
  Type.Partial(o, { additionalProperties: false });

const Status = Type.Object(
  {
    state: StringEnum(['idle', 'running', 'disabled']),
    last_sweep_started_at: NTime,
    last_sweep_finished_at: NTime,
    hosts_probed: Type.Integer(),
    hosts_reachable: Type.Integer(),
    hosts_unreachable: Type.Integer(),
    queue: Type.Integer({ description: 'Hosts of the running sweep not probed yet.' }),
    next_sweep_at: NTime,
  },
  { title: 'ConnectivityStatus' },
);

/** The system configuration endpoints: connectivity, intelligence and discovery settings. */
export function systemConfigRoutes(
  app: App,
  deps: {
    settings: SettingsService;
    connectivityStatus: () => Promise<ConnectivityStatus>;
    sweepDiscovery: (ctx: RequestContext) => Promise<SweepQueued>;
  },
): void {
  const tags = ['system'];
  const { settings } = deps;
  const read = { config: { access: 'system:read' } };
  const write = { config: { access: 'system:write' } };

  app.get(
    '/api/v1/system/connectivity/config',
    {
      ...read,
      schema: {
        tags,
        summary: "The connectivity worker's settings.",
        response: { 200: Connectivity },
      },
    },
    async () => settings.get('connectivity'),
  );
  app.put(
    '/api/v1/system/connectivity/config',
    {
      ...write,
      schema: {
        tags,
        summary:
          "Change the connectivity worker's settings (fields not given keep their values); a bad value is 400 naming its field.",
        body: partial(Connectivity),
        response: { 200: Connectivity },
      },
    },
    async (request) => settings.update(contextOf(request), 'connectivity', request.body),
  );
  app.get(
    '/api/v1/system/connectivity/status',
    {
      ...read,
      schema: {
        tags,
        summary: "The connectivity worker's state, its last sweep and its queue.",
        response: { 200: Status },
      },
    },
    async () => deps.connectivityStatus(),
  );
  app.get(
    '/api/v1/system/intelligence/config',
    {
      ...read,
      schema: {
        tags,
        summary: 'Which system fact groups are collected, and how often.',
        response: { 200: Intelligence },
      },
    },
    async () => settings.get('intelligence'),
  );
  app.put(
    '/api/v1/system/intelligence/config',
    {
      ...write,
      schema: {
        tags,
        summary:
          'Change which fact groups are collected and how often, and which kinds of host change are recorded (fields not given keep their values); a bad value is 400 naming its field.',
        body: Type.Object(
          {
            interval_seconds: Type.Optional(Type.Integer()),
            facts: Type.Optional(Type.Partial(Facts, { additionalProperties: false })),
            changes: Type.Optional(Type.Partial(Changes, { additionalProperties: false })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Intelligence },
      },
    },
    async (request) => settings.update(contextOf(request), 'intelligence', request.body),
  );
  app.get(
    '/api/v1/system/discovery/config',
    {
      ...read,
      schema: { tags, summary: "Agentless discovery's settings.", response: { 200: Discovery } },
    },
    async () => settings.get('discovery'),
  );
  app.put(
    '/api/v1/system/discovery/config',
    {
      ...write,
      schema: {
        tags,
        summary:
          "Change agentless discovery's settings (fields not given keep their values); a bad value is 400 naming its field.",
        body: partial(Discovery),
        response: { 200: Discovery },
      },
    },
    async (request) => settings.update(contextOf(request), 'discovery', request.body),
  );
  app.post(
    '/api/v1/system/discovery/sweep',
    {
      config: { access: 'system:write', idempotency: 'required' },
      schema: {
        tags,
        summary:
          'Discover every host with an address and a resolvable credential, in the background; answers 202 with what it queued (409 `discovery.sweep_running` while one runs). Needs `Idempotency-Key`.',
        response: {
          202: Type.Object({
            queued: Type.Integer(),
            host_ids: Type.Array(Type.String()),
            skipped: Type.Integer({ description: 'Hosts without an address or a credential.' }),
          }),
        },
      },
    },
    async (request, reply) => reply.code(202).send(await deps.sweepDiscovery(contextOf(request))),
  );
}
