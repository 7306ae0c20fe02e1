import { Type } from '@sinclair/typebox';
import type { App } from '../http/server.js';
import { INTEL_KINDS } from './model.js';
import { KIND_PREFIXES, type IntelligenceReads } from './service.js';

const NString = Type.Union([Type.String(), Type.Null()]);
const NInt = Type.Union([Type.Integer(), Type.Null()]);
const NTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

const IntelEvent = Type.Object(
  {
    id: Type.String(),
    host_id: Type.String(),
    host_name: NString,
    kind: Type.Union(INTEL_KINDS.map((k) => Type.Literal(k))),
    subject: Type.String({
      description:
        'What changed: the package, the new kernel version, the new boot time (RFC 3339), the socket (`tcp/0.0.0.0:22`, `tcp/[::]:22`), the account or the unit.',
    }),
    detail: Type.Record(Type.String(), Type.Unknown(), {
      description:
        '{from, to} for kernel.changed and package.upgraded; {version} for package.installed and package.removed; {boot_time, previous_boot_time} for host.rebooted; {process, pid} for a port when known; {uid, shell} for a user; {sub_state} for unit.failed; {active_state} (null: the unit is gone) for unit.recovered.',
    }),
    at: Type.String({ format: 'date-time', description: 'When the change was seen.' }),
  },
  { title: 'IntelligenceEvent' },
);

const HostState = Type.Object(
  {
    host_id: Type.String(),
    updated_at: { ...NTime, description: 'When the state last changed; null: never seen yet.' },
    kernel: NString,
    boot_time: NTime,
    packages: Type.Object({
      count: Type.Integer(),
      updated_at: { ...NTime, description: 'When the latest inventory was compared.' },
      items: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })),
    }),
    listening_ports: Type.Array(
      Type.Object({
        subject: Type.String({ description: '`tcp/0.0.0.0:22`, as events name it.' }),
        protocol: Type.String(),
        address: Type.String(),
        port: Type.Integer(),
        process: NString,
        pid: NInt,
      }),
    ),
    accounts: Type.Array(
      Type.Object({
        name: Type.String(),
        uid: NInt,
        gid: NInt,
        home: NString,
        shell: NString,
      }),
    ),
    failed_units: Type.Array(Type.String()),
  },
  { title: 'IntelligenceState' },
);

/** Host intelligence's reads: what changed on hosts, and a host's last known state. */
export function intelligenceRoutes(app: App, deps: { reads: IntelligenceReads }): void {
  const tags = ['intelligence'];
  app.get(
    '/api/v1/intelligence/events',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          'What changed on hosts (packages, kernel, reboots, listening ports, accounts, failed units), newest first; follow next_cursor for older ones.',
        querystring: Type.Object(
          {
            host_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
            kind: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 64,
                description: `One kind (${INTEL_KINDS.join(', ')}) or a prefix of kinds (${KIND_PREFIXES.join(', ')}).`,
              }),
            ),
            since: Type.Optional(Type.String({ format: 'date-time' })),
            until: Type.Optional(Type.String({ format: 'date-time' })),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            { events: Type.Array(IntelEvent), next_cursor: NString },
            { title: 'IntelligenceEventPage' },
          ),
        },
      },
    },
    async (request) => deps.reads.events(request.query),
  );
  app.get(
    '/api/v1/intelligence/state/:host_id',
    {
      config: { access: 'host:read' },
      schema: {
        tags,
        summary:
          "A host's last known kernel, boot time, packages, listening ports, accounts and failed units (nulls and empty lists before its first document); 404 for an unknown host.",
        params: Type.Object({ host_id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: HostState },
      },
    },
    async (request) => deps.reads.state(request.params.host_id),
  );
}
