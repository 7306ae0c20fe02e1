import type { AgentStatus } from '@vigil/protocol';
import type { Severity } from '../alerts/model.js';

/** What the dashboard reads of hosts: their counts by status. Declared where used. */
export interface DashboardHosts {
  statusCounts(): Promise<{
    total: number;
    online: number;
    offline: number;
    pending: number;
    unknown: number;
    maintenance: number;
  }>;
}

/** What the dashboard reads of alerts: open alerts by severity. */
export interface DashboardAlerts {
  /** Open alerts by severity, and how many of them nobody has acknowledged yet. */
  countsBySeverity(): Promise<Record<Severity, number> & { unacknowledged: number }>;
}

/** What the dashboard reads of agents: every agent's status. */
export interface DashboardAgents {
  list(): Promise<{ status: AgentStatus }[]>;
}

/** What the dashboard reads of checks: the ones failing on the most hosts. */
export interface DashboardChecks {
  topFailingChecks(
    limit: number,
  ): Promise<{ name: string; hosts: number; warning: number; critical: number; unknown: number }[]>;
}

/** The dashboard summary (`GET /api/dashboard`). */
export interface DashboardSummary {
  generated_at: string;
  hosts: {
    total: number;
    online: number;
    offline: number;
    pending: number;
    unknown: number;
    maintenance: number;
  };
  alerts: {
    open: number;
    critical: number;
    warning: number;
    info: number;
    unacknowledged: number;
  };
  agents: { total: number; online: number; offline: number; pending: number };
  top_failing_checks: {
    name: string;
    failing_hosts: number;
    warning: number;
    critical: number;
    unknown: number;
  }[];
}

/** How many failing checks the summary lists. */
const TOP_CHECKS = 10;

/**
 * The dashboard: the fleet in one answer — hosts by state, open alerts by severity, agents
 * online, offline and pending, and the checks failing on the most hosts. Each part is one
 * bounded read, whatever the fleet's size.
 */
export const createDashboard = (deps: {
  hosts: DashboardHosts;
  alerts: DashboardAlerts;
  agents: DashboardAgents;
  checks: DashboardChecks;
  now: () => number;
}) => ({
  /** The summary now. */
  async summary(): Promise<DashboardSummary> {
    const [hosts, alerts, agents, checks] = await Promise.all([
      deps.hosts.statusCounts(),
      deps.alerts.countsBySeverity(),
      deps.agents.list(),
      deps.checks.topFailingChecks(TOP_CHECKS),
    ]);
    const count = (s: AgentStatus) => agents.filter((a) => a.status === s).length;
    return {
      generated_at: new Date(deps.now()).toISOString(),
      hosts,
      alerts: {
        open: alerts.critical + alerts.warning + alerts.info,
        critical: alerts.critical,
        warning: alerts.warning,
        info: alerts.info,
        unacknowledged: alerts.unacknowledged,
      },
      agents: {
        total: agents.length,
        online: count('online'),
        offline: count('offline'),
        pending: count('pending'),
      },
      top_failing_checks: checks.map((c) => ({
        name: c.name,
        failing_hosts: c.hosts,
        warning: c.warning,
        critical: c.critical,
        unknown: c.unknown,
      })),
    };
  },
});

/** The dashboard. */
export type Dashboard = ReturnType<typeof createDashboard>;
