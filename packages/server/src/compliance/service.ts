import type {
  ComplianceRule,
  ComplianceSeverity,
  ComplianceStatus,
  CompliancePack,
} from '@vigil/protocol';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { ComplianceConfig, ConfigChange } from '../system/settings.js';
import type { ComplianceAssignment } from './assignment.js';
import type { ComplianceStore } from './model.js';
import type { PackCatalog } from './packs.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A rule as `GET /api/v1/compliance/rules` lists it, with how many live hosts pass and fail it. */
export interface RuleListing {
  pack: string;
  pack_version: string;
  id: string;
  title: string;
  severity: ComplianceSeverity;
  rationale: string;
  remediation: string;
  references: ComplianceRule['references'];
  platforms: ComplianceRule['platforms'];
  failing_hosts: number;
  passing_hosts: number;
}

/** A pack as the rules' listing summarises it. */
export interface PackListing {
  id: string;
  version: string;
  title: string;
  description: string;
  /** How many rules it has. */
  rules: number;
}

/** Counts of a host's rules by status, and its score (pass / (pass + fail), null with neither). */
export interface ComplianceSummary {
  pass: number;
  fail: number;
  error: number;
  not_applicable: number;
  score: number | null;
}

/** A host's compliance (`GET /api/v1/hosts/{id}/compliance`). */
export interface HostCompliance {
  host_id: string;
  packs: { id: string; version: string }[];
  unknown_packs: string[];
  evaluated_at: string | null;
  summary: ComplianceSummary;
  rules: {
    pack: string;
    id: string;
    title: string;
    severity: ComplianceSeverity;
    /** Null until the host's agent reported the rule. */
    status: ComplianceStatus | null;
    detail: string | null;
    since: string | null;
    rationale: string;
    remediation: string;
    references: ComplianceRule['references'];
  }[];
  changes: {
    pack: string;
    rule_id: string;
    title: string;
    from: ComplianceStatus;
    to: ComplianceStatus;
    at: string;
  }[];
}

/** Compliance's settings as the service reads and changes them (the settings service). */
export interface ComplianceSettings {
  get(section: 'compliance'): Promise<ComplianceConfig>;
  update(
    ctx: RequestContext,
    section: 'compliance',
    change: ConfigChange<'compliance'>,
  ): Promise<ComplianceConfig>;
}

/** How many of a host's most recent changes its compliance lists. */
const HOST_CHANGES = 50;

/** A summary of statuses. */
export function summaryOf(statuses: Iterable<ComplianceStatus | null>): ComplianceSummary {
  const s = { pass: 0, fail: 0, error: 0, not_applicable: 0 };
  for (const status of statuses) if (status !== null) s[status] += 1;
  return { ...s, score: s.pass + s.fail === 0 ? null : s.pass / (s.pass + s.fail) };
}

/**
 * Compliance's reads and settings for the API: the rules of the loaded packs with the fleet's
 * counts, a host's rules with their states and changes, and the settings (a change drops the
 * settings the push answers keep in memory).
 */
export function createComplianceService(deps: {
  catalog: PackCatalog;
  assignment: ComplianceAssignment;
  store: Pick<ComplianceStore, 'states' | 'hostChanges' | 'ruleCounts'>;
  /** Whether a host exists (not deleted). */
  hostExists(hostId: string): Promise<boolean>;
  settings: ComplianceSettings;
}) {
  const { catalog, store } = deps;
  return {
    /** The rules of the loaded packs (of one pack, of one severity), with live hosts' counts. */
    async rules(q: {
      pack?: string;
      severity?: ComplianceSeverity;
    }): Promise<{ rules: RuleListing[]; packs: PackListing[] }> {
      const packs = catalog.packs.filter((p) => q.pack === undefined || p.id === q.pack);
      const counts = new Map<string, { pass: number; fail: number }>();
      for (const c of await store.ruleCounts()) {
        const key = `${c.pack_id}\u0000${c.rule_id}`;
        const n = counts.get(key) ?? { pass: 0, fail: 0 };
        if (c.status === 'pass') n.pass += c.hosts;
        else if (c.status === 'fail') n.fail += c.hosts;
        counts.set(key, n);
      }
      const rules: RuleListing[] = [];
      for (const p of packs)
        for (const r of p.rules) {
          if (q.severity !== undefined && r.severity !== q.severity) continue;
          const n = counts.get(`${p.id}\u0000${r.id}`);
          rules.push({
            pack: p.id,
            pack_version: p.version,
            id: r.id,
            title: r.title,
            severity: r.severity,
            rationale: r.rationale,
            remediation: r.remediation,
            references: r.references,
            platforms: r.platforms,
            failing_hosts: n?.fail ?? 0,
            passing_hosts: n?.pass ?? 0,
          });
        }
      return { rules, packs: packs.map(packListing) };
    },

    /**
     * A host's assigned packs and their rules with the states its agent reported, and its newest
     * changes.
     * @throws VigilError not_found for an unknown (or deleted) host.
     */
    async host(hostId: string): Promise<HostCompliance> {
      if (!(await deps.hostExists(hostId)))
        throw new VigilError('not_found', `host ${hostId} does not exist`);
      const [assigned, states, changes] = await Promise.all([
        deps.assignment.forHost(hostId),
        store.states(hostId),
        store.hostChanges(hostId, HOST_CHANGES),
      ]);
      const byKey = new Map(states.map((s) => [`${s.pack_id}\u0000${s.rule_id}`, s] as const));
      let evaluated: number | null = null;
      const rules: HostCompliance['rules'] = [];
      for (const p of assigned.packs)
        for (const r of p.rules) {
          const s = byKey.get(`${p.id}\u0000${r.id}`);
          if (s && (evaluated === null || s.evaluated_at > evaluated)) evaluated = s.evaluated_at;
          rules.push({
            pack: p.id,
            id: r.id,
            title: r.title,
            severity: r.severity,
            status: s?.status ?? null,
            detail: s?.detail ?? null,
            since: s ? iso(s.since) : null,
            rationale: r.rationale,
            remediation: r.remediation,
            references: r.references,
          });
        }
      return {
        host_id: hostId,
        packs: assigned.packs.map((p) => ({ id: p.id, version: p.version })),
        unknown_packs: [...assigned.unknown],
        evaluated_at: evaluated === null ? null : iso(evaluated),
        summary: summaryOf(rules.map((r) => r.status)),
        rules,
        changes: changes.map((c) => ({
          pack: c.pack_id,
          rule_id: c.rule_id,
          title: catalog.rule(c.pack_id, c.rule_id)?.title ?? c.rule_id,
          from: c.from_status,
          to: c.to_status,
          at: iso(c.at),
        })),
      };
    },

    /** Compliance evaluation's settings. */
    config: (): Promise<ComplianceConfig> => deps.settings.get('compliance'),

    /**
     * Changes some of compliance evaluation's settings (audited) and returns them all.
     * @throws VigilError bad_data naming the first field at fault.
     */
    async updateConfig(
      ctx: RequestContext,
      change: ConfigChange<'compliance'>,
    ): Promise<ComplianceConfig> {
      const next = await deps.settings.update(ctx, 'compliance', change);
      deps.assignment.configChanged();
      return next;
    },
  };
}

const packListing = (p: CompliancePack): PackListing => ({
  id: p.id,
  version: p.version,
  title: p.title,
  description: p.description,
  rules: p.rules.length,
});

/** Compliance's reads and settings. */
export type ComplianceService = ReturnType<typeof createComplianceService>;
