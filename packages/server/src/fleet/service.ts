import type { ComplianceSeverity, ComplianceStatus } from '@vigil/protocol';
import type { CursorCodec } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { HostRow, LivenessRow } from '../hosts/service.js';
import type { ComplianceStore } from '../compliance/model.js';
import type { PackCatalog } from '../compliance/packs.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** What the fleet pages read of hosts. Declared here, where it is used; the hosts service has it. */
export interface FleetHosts {
  /** Every enabled host. */
  all(): Promise<HostRow[]>;
  /** Every host's liveness, by host id. */
  livenessAll(): Promise<Map<string, LivenessRow>>;
}

/** The fleet's compliance score. */
export interface FleetScore {
  /** pass / (pass + fail) over live hosts' rule states; null with no evaluation. */
  passing_fraction: number | null;
  /** Rule states that pass or fail (others are not evaluations that count). */
  total_evaluations: number;
  passing: number;
  failing: number;
  /** Live hosts with at least one rule that passes or fails. */
  hosts_evaluated: number;
}

/** Live hosts by what the connectivity worker last found. */
export interface FleetLiveness {
  reachable: number;
  unreachable: number;
  /** Probed, but longer ago than three connectivity intervals. */
  unknown: number;
  never_probed: number;
}

/** A rule that fails on hosts of the fleet. */
export interface FailingRule {
  pack: string;
  rule_id: string;
  title: string;
  severity: ComplianceSeverity;
  failing_hosts: number;
  /** Hosts on which it passes or fails. */
  hosts_evaluated: number;
}

/** A host with failing rules. */
export interface FailingHost {
  host_id: string;
  host_name: string;
  failing_rules: number;
  /** Rules that pass or fail on it. */
  evaluated_rules: number;
  score: number | null;
}

/** A compliance change in the fleet. */
export interface FleetChange {
  id: string;
  host_id: string;
  host_name: string;
  pack: string;
  rule_id: string;
  title: string;
  severity: ComplianceSeverity | null;
  from: ComplianceStatus;
  to: ComplianceStatus;
  at: string;
}

/** Live hosts by connectivity, SSH outcome and error. */
export interface ConnectivityBreakdown {
  total: number;
  statuses: FleetLiveness;
  ssh: { ok: number; failed: number; not_attempted: number };
  /** The commonest error texts of the last probes, most hosts first (at most 10). */
  errors: { error: string; hosts: number }[];
}

/** How many intervals old a liveness row may be before it no longer says anything. */
const STALE_INTERVALS = 3;
/** The most error texts the breakdown lists. */
const TOP_ERRORS = 10;

/**
 * The fleet pages (OpenWatch's `/api/v1/fleet/*`): the compliance score, the rules and hosts that
 * fail most, recent compliance changes (from the compliance store, live hosts only), and
 * liveness and connectivity from the connectivity worker's rows joined with live hosts.
 */
export function createFleetService(deps: {
  hosts: FleetHosts;
  compliance: Pick<ComplianceStore, 'ruleCounts' | 'hostCounts' | 'fleetChanges'>;
  catalog: PackCatalog;
  /** The connectivity worker's interval, in seconds. */
  connectivityIntervalSeconds(): Promise<number>;
  cursors: CursorCodec;
  now: () => number;
}) {
  const { catalog } = deps;

  /** Each live host's liveness class, with its row when it has one. */
  async function classify() {
    const [hosts, rows, interval] = await Promise.all([
      deps.hosts.all(),
      deps.hosts.livenessAll(),
      deps.connectivityIntervalSeconds(),
    ]);
    const staleBefore = deps.now() - STALE_INTERVALS * interval * 1000;
    return hosts.map((h) => {
      const row = rows.get(h.id);
      const status: keyof FleetLiveness = !row
        ? 'never_probed'
        : row.checked_at < staleBefore
          ? 'unknown'
          : row.state;
      return { host: h, row, status };
    });
  }

  const livenessOf = (classes: { status: keyof FleetLiveness }[]): FleetLiveness => {
    const out: FleetLiveness = { reachable: 0, unreachable: 0, unknown: 0, never_probed: 0 };
    for (const c of classes) out[c.status] += 1;
    return out;
  };

  return {
    /** The compliance score over live hosts' rule states. */
    async score(): Promise<FleetScore> {
      let passing = 0;
      let failing = 0;
      const hosts = new Set<string>();
      for (const c of await deps.compliance.hostCounts()) {
        if (c.status === 'pass') passing += c.rules;
        else if (c.status === 'fail') failing += c.rules;
        else continue;
        hosts.add(c.host_id);
      }
      const total = passing + failing;
      return {
        passing_fraction: total === 0 ? null : passing / total,
        total_evaluations: total,
        passing,
        failing,
        hosts_evaluated: hosts.size,
      };
    },

    /** Live hosts by liveness: reachable, unreachable, stale (unknown), never probed. */
    async liveness(): Promise<FleetLiveness> {
      return livenessOf(await classify());
    },

    /** The rules of loaded packs failing on the most live hosts (then by severity, then id). */
    async topFailingRules(limit: number): Promise<{ rules: FailingRule[] }> {
      const byRule = new Map<string, FailingRule>();
      for (const c of await deps.compliance.ruleCounts()) {
        if (c.status !== 'pass' && c.status !== 'fail') continue;
        const rule = catalog.rule(c.pack_id, c.rule_id);
        if (!rule) continue;
        const key = `${c.pack_id}\u0000${c.rule_id}`;
        const r = byRule.get(key) ?? {
          pack: c.pack_id,
          rule_id: c.rule_id,
          title: rule.title,
          severity: rule.severity,
          failing_hosts: 0,
          hosts_evaluated: 0,
        };
        if (c.status === 'fail') r.failing_hosts += c.hosts;
        r.hosts_evaluated += c.hosts;
        byRule.set(key, r);
      }
      const order: ComplianceSeverity[] = ['critical', 'high', 'medium', 'low'];
      const rules = [...byRule.values()]
        .filter((r) => r.failing_hosts > 0)
        .sort(
          (a, b) =>
            b.failing_hosts - a.failing_hosts ||
            order.indexOf(a.severity) - order.indexOf(b.severity) ||
            (a.pack < b.pack ? -1 : a.pack > b.pack ? 1 : 0) ||
            (a.rule_id < b.rule_id ? -1 : a.rule_id > b.rule_id ? 1 : 0),
        );
      return { rules: rules.slice(0, limit) };
    },

    /** The live hosts with the most failing rules (then the lowest score, then name). */
    async topFailingHosts(limit: number): Promise<{ hosts: FailingHost[] }> {
      const byHost = new Map<string, FailingHost & { passing: number }>();
      for (const c of await deps.compliance.hostCounts()) {
        if (c.status !== 'pass' && c.status !== 'fail') continue;
        const h = byHost.get(c.host_id) ?? {
          host_id: c.host_id,
          host_name: c.host_name,
          failing_rules: 0,
          evaluated_rules: 0,
          score: null,
          passing: 0,
        };
        if (c.status === 'fail') h.failing_rules += c.rules;
        else h.passing += c.rules;
        h.evaluated_rules += c.rules;
        byHost.set(c.host_id, h);
      }
      const hosts = [...byHost.values()]
        .filter((h) => h.failing_rules > 0)
        .map(({ passing, ...h }) => ({ ...h, score: passing / h.evaluated_rules }))
        .sort(
          (a, b) =>
            b.failing_rules - a.failing_rules ||
            a.score - b.score ||
            (a.host_name < b.host_name ? -1 : a.host_name > b.host_name ? 1 : 0),
        );
      return { hosts: hosts.slice(0, limit) };
    },

    /**
     * Live hosts' compliance changes, newest first; follow `next_cursor` for older ones.
     * @throws VigilError bad_data for a cursor this server did not make.
     */
    async recentChanges(q: {
      limit: number;
      cursor?: string;
      host_id?: string;
    }): Promise<{ changes: FleetChange[]; next_cursor: string | null }> {
      let beforeId: number | undefined;
      if (q.cursor !== undefined) {
        const c = deps.cursors.decode(q.cursor) as { fc?: unknown } | undefined;
        if (!c || typeof c.fc !== 'number' || !Number.isInteger(c.fc))
          throw new VigilError('bad_data', 'cursor: not a cursor of this list', {
            code: 'validation_failed',
          });
        beforeId = c.fc;
      }
      const rows = await deps.compliance.fleetChanges({
        hostId: q.host_id,
        beforeId,
        limit: q.limit + 1,
      });
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      return {
        changes: page.map((c) => {
          const rule = catalog.rule(c.pack_id, c.rule_id);
          return {
            id: String(c.id),
            host_id: c.host_id,
            host_name: c.host_name,
            pack: c.pack_id,
            rule_id: c.rule_id,
            title: rule?.title ?? c.rule_id,
            severity: rule?.severity ?? null,
            from: c.from_status,
            to: c.to_status,
            at: iso(c.at),
          };
        }),
        next_cursor: rows.length > q.limit && last ? deps.cursors.encode({ fc: last.id }) : null,
      };
    },

    /** Live hosts by liveness, by SSH outcome of their last probe, and their commonest errors. */
    async connectivityBreakdown(): Promise<ConnectivityBreakdown> {
      const classes = await classify();
      const ssh = { ok: 0, failed: 0, not_attempted: 0 };
      const errors = new Map<string, number>();
      for (const c of classes) {
        const ok = c.row?.ssh_ok;
        if (ok === 1) ssh.ok += 1;
        else if (ok === 0) ssh.failed += 1;
        else ssh.not_attempted += 1;
        const error = c.row?.error;
        if (error) errors.set(error, (errors.get(error) ?? 0) + 1);
      }
      return {
        total: classes.length,
        statuses: livenessOf(classes),
        ssh,
        errors: [...errors]
          .map(([error, hosts]) => ({ error, hosts }))
          .sort((a, b) => b.hosts - a.hosts || (a.error < b.error ? -1 : a.error > b.error ? 1 : 0))
          .slice(0, TOP_ERRORS),
      };
    },
  };
}

/** The fleet pages' service. */
export type FleetService = ReturnType<typeof createFleetService>;
