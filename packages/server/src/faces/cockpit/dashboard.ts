import { Type } from '@sinclair/typebox';
import type { Dashboard } from '../../dashboard/service.js';
import type { App } from '../../http/server.js';

const Count = Type.Integer({ minimum: 0 });

/** The dashboard's answer: Cockpit's document gives no body, so this is Vigil's. */
const DashboardSummary = Type.Object(
  {
    generated_at: Type.String({ format: 'date-time' }),
    hosts: Type.Object(
      {
        total: Count,
        online: Count,
        offline: Count,
        pending: Count,
        unknown: Count,
        maintenance: Type.Integer({
          minimum: 0,
          description: 'Hosts in maintenance now (counted in their status too).',
        }),
      },
      { description: 'Hosts by status: online when an agent is, pending, offline, unknown.' },
    ),
    alerts: Type.Object(
      {
        open: Count,
        critical: Count,
        warning: Count,
        info: Count,
        unacknowledged: Type.Integer({
          minimum: 0,
          description: 'Open alerts nobody has acknowledged or silenced.',
        }),
      },
      { description: 'Open alerts (active, acknowledged, silenced) by severity.' },
    ),
    agents: Type.Object({ total: Count, online: Count, offline: Count, pending: Count }),
    top_failing_checks: Type.Array(
      Type.Object({
        name: Type.String(),
        failing_hosts: Count,
        warning: Count,
        critical: Count,
        unknown: Count,
      }),
      { description: 'The checks in a HARD problem state on the most hosts, at most 10.' },
    ),
  },
  { title: 'DashboardSummary' },
);

/**
 * The Cockpit ITSM face's `GET /api/dashboard`: the fleet's summary for a client holding an
 * access token from `POST /oauth/token` (or any session) with `dashboard:view`.
 */
export function cockpitDashboard(app: App, deps: { dashboard: Dashboard }): void {
  app.get(
    '/api/dashboard',
    {
      config: { access: 'dashboard:view' },
      schema: {
        tags: ['cockpit'],
        summary:
          'Dashboard data (Cockpit ITSM): hosts by state, open alerts by severity, agents online, offline and pending, and the checks failing on the most hosts.',
        response: { 200: DashboardSummary },
      },
    },
    () => deps.dashboard.summary(),
  );
}
