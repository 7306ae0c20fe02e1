import { Type } from '@sinclair/typebox';
import { ComplianceSeverity, ComplianceStatus } from '@vigil/protocol';
import type { App } from '../http/server.js';
import type { FleetService } from './service.js';

const Limit = Type.Optional(
  Type.Integer({ minimum: 1, maximum: 100, default: 10, description: '1 to 100; 10 by default.' }),
);
const Liveness = Type.Object(
  {
    reachable: Type.Integer(),
    unreachable: Type.Integer(),
    unknown: Type.Integer({
      description: 'Probed, but longer ago than three connectivity intervals.',
    }),
    never_probed: Type.Integer(),
  },
  { title: 'FleetLiveness' },
);

/**
 * The fleet pages (OpenWatch's `/api/v1/fleet/*`): the compliance score, liveness, the rules and
 * hosts that fail most, recent compliance changes, and the connectivity breakdown.
 */
export function fleetRoutes(app: App, deps: { fleet: FleetService }): void {
  const { fleet } = deps;
  const tags = ['fleet'];
  const compliance = { config: { access: 'compliance:read' } };
  const hosts = { config: { access: 'host:read' } };

  app.get(
    '/api/v1/fleet/score',
    {
      ...compliance,
      schema: {
        tags,
        summary:
          "The fleet's compliance score: the fraction of live hosts' rule states that pass, of those that pass or fail.",
        response: {
          200: Type.Object(
            {
              passing_fraction: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
                description: 'pass / (pass + fail); null with no evaluation.',
              }),
              total_evaluations: Type.Integer({ description: 'Rule states that pass or fail.' }),
              passing: Type.Integer(),
              failing: Type.Integer(),
              hosts_evaluated: Type.Integer({
                description: 'Live hosts with a rule that passes or fails.',
              }),
            },
            { title: 'FleetScore' },
          ),
        },
      },
    },
    async () => fleet.score(),
  );
  app.get(
    '/api/v1/fleet/liveness',
    {
      ...hosts,
      schema: {
        tags,
        summary: "Live hosts by what the connectivity worker's last probe found.",
        response: { 200: Liveness },
      },
    },
    async () => fleet.liveness(),
  );
  app.get(
    '/api/v1/fleet/top-failing-rules',
    {
      ...compliance,
      schema: {
        tags,
        summary: 'The compliance rules failing on the most live hosts.',
        querystring: Type.Object({ limit: Limit }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            {
              rules: Type.Array(
                Type.Object({
                  pack: Type.String(),
                  rule_id: Type.String(),
                  title: Type.String(),
                  severity: ComplianceSeverity,
                  failing_hosts: Type.Integer(),
                  hosts_evaluated: Type.Integer({
                    description: 'Live hosts on which the rule passes or fails.',
                  }),
                }),
              ),
            },
            { title: 'FleetTopFailingRules' },
          ),
        },
      },
    },
    async (request) => fleet.topFailingRules(request.query.limit ?? 10),
  );
  app.get(
    '/api/v1/fleet/top-failing-hosts',
    {
      ...compliance,
      schema: {
        tags,
        summary: 'The live hosts with the most failing compliance rules.',
        querystring: Type.Object({ limit: Limit }, { additionalProperties: false }),
        response: {
          200: Type.Object(
            {
              hosts: Type.Array(
                Type.Object({
                  host_id: Type.String(),
                  host_name: Type.String(),
                  failing_rules: Type.Integer(),
                  evaluated_rules: Type.Integer({ description: 'Rules that pass or fail.' }),
                  score: Type.Union([Type.Number(), Type.Null()]),
                }),
              ),
            },
            { title: 'FleetTopFailingHosts' },
          ),
        },
      },
    },
    async (request) => fleet.topFailingHosts(request.query.limit ?? 10),
  );
  app.get(
    '/api/v1/fleet/recent-changes',
    {
      ...compliance,
      schema: {
        tags,
        summary:
          "Live hosts' compliance changes (a rule's status moved), newest first; follow next_cursor for older ones.",
        querystring: Type.Object(
          {
            limit: Limit,
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
            host_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object(
            {
              changes: Type.Array(
                Type.Object({
                  id: Type.String(),
                  host_id: Type.String(),
                  host_name: Type.String(),
                  pack: Type.String(),
                  rule_id: Type.String(),
                  title: Type.String(),
                  severity: Type.Union([ComplianceSeverity, Type.Null()], {
                    description: 'Null for a rule no loaded pack has any more.',
                  }),
                  from: ComplianceStatus,
                  to: ComplianceStatus,
                  at: Type.String({ format: 'date-time' }),
                }),
              ),
              next_cursor: Type.Union([Type.String(), Type.Null()]),
            },
            { title: 'FleetRecentChanges' },
          ),
        },
      },
    },
    async (request) => fleet.recentChanges({ ...request.query, limit: request.query.limit ?? 10 }),
  );
  app.get(
    '/api/v1/fleet/connectivity/breakdown',
    {
      ...hosts,
      schema: {
        tags,
        summary:
          "Live hosts by liveness, by the SSH outcome of their last probe, and the commonest errors of the connectivity worker's probes.",
        response: {
          200: Type.Object(
            {
              total: Type.Integer(),
              statuses: Liveness,
              ssh: Type.Object({
                ok: Type.Integer(),
                failed: Type.Integer(),
                not_attempted: Type.Integer({
                  description: 'No credential, the TCP probe failed, or never probed.',
                }),
              }),
              errors: Type.Array(Type.Object({ error: Type.String(), hosts: Type.Integer() }), {
                description: 'The 10 commonest error texts, most hosts first.',
              }),
            },
            { title: 'FleetConnectivityBreakdown' },
          ),
        },
      },
    },
    async () => fleet.connectivityBreakdown(),
  );
}
