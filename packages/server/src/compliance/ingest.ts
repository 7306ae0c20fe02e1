import type { ComplianceReport, ComplianceSeverity, ComplianceStatus } from '@vigil/protocol';
import type { AlertKey, AlertSignal, AlertSink, Severity } from '../alerts/model.js';
import type { IngestEvent } from '../events/types.js';
import type { ComplianceConfig } from '../system/settings.js';
import type { ComplianceChangeRow, ComplianceStateRow, ComplianceStore } from './model.js';
import { SEVERITY_ORDER, type PackCatalog } from './packs.js';

/** The alert rule id of compliance alerts (one alert per host and failing rule). */
export const COMPLIANCE_RULE_ID = 'compliance';

const STATUSES = new Set<string>(['pass', 'fail', 'error', 'not_applicable']);
/** Statuses that clear a failing rule's alert. */
const CLEARS = new Set<ComplianceStatus>(['pass', 'not_applicable']);
const DETAIL_MAX = 500;

/** A rule's alert severity: critical for critical and high rules, warning for medium, else info. */
export function alertSeverityOf(severity: ComplianceSeverity): Severity {
  if (severity === 'critical' || severity === 'high') return 'critical';
  return severity === 'medium' ? 'warning' : 'info';
}

/** Whether a rule of `severity` raises an alert under `min` (`none`: never). */
export function alerts(severity: ComplianceSeverity, min: ComplianceConfig['alert_min_severity']) {
  if (min === 'none') return false;
  return SEVERITY_ORDER.indexOf(severity) >= SEVERITY_ORDER.indexOf(min);
}

/** A rule whose status moved, for the alerts that follow it. */
interface Moved {
  pack: string;
  rule: string;
  from: ComplianceStatus | null;
  to: ComplianceStatus;
  detail: string | null;
}

/**
 * Takes the compliance reports of ingested documents in: each rule's current state per host, a
 * change row whenever a rule's status differs from the stored one (the first sight of a rule is a
 * state, not a change), and alerts for failing rules through the `AlertSink`. Cheap on every
 * push: a document without a report, or with the evaluation last seen for its host (kept in
 * memory), costs a map lookup. A report is taken leniently: results of unknown packs or rules,
 * or with an unknown status, are ignored; the rest is stored in one transaction.
 */
export function createComplianceIngest(deps: {
  catalog: PackCatalog;
  store: ComplianceStore;
  /** Runs a unit of work on the compliance store in one transaction. */
  transact<T>(fn: (store: ComplianceStore) => Promise<T>): Promise<T>;
  sink: AlertSink;
  config(): Promise<ComplianceConfig>;
  log(err: unknown, what: string): void;
}) {
  const { catalog } = deps;
  /** The last evaluation (epoch s) taken in per host. */
  const seen = new Map<string, number>();

  async function record(e: IngestEvent, report: ComplianceReport): Promise<void> {
    const at = report.evaluated_at * 1000;
    const results = new Map<string, { pack: string; rule: string } & Omit<Moved, 'from' | 'to'>>();
    const statuses = new Map<string, ComplianceStatus>();
    for (const r of report.results) {
      if (!STATUSES.has(r.status) || !catalog.rule(r.pack, r.rule)) continue;
      const key = `${r.pack}\u0000${r.rule}`;
      const detail = typeof r.detail === 'string' ? r.detail.slice(0, DETAIL_MAX) : null;
      results.set(key, { pack: r.pack, rule: r.rule, detail });
      statuses.set(key, r.status);
    }
    // The packs the agent evaluated: states of other packs (no longer assigned) and of rules no
    // loaded pack has any more are dropped, so that fleet figures follow the assignment.
    const reported = new Set<string>(report.packs.map((p) => p.id));
    for (const r of results.values()) reported.add(r.pack);
    const moved = await deps.transact(async (s) => {
      const stored = new Map<string, ComplianceStateRow>();
      const stale: ComplianceStateRow[] = [];
      for (const r of await s.states(e.hostId)) {
        if (reported.has(r.pack_id) && catalog.rule(r.pack_id, r.rule_id))
          stored.set(`${r.pack_id}\u0000${r.rule_id}`, r);
        else stale.push(r);
      }
      const states: ComplianceStateRow[] = [];
      const changes: Omit<ComplianceChangeRow, 'id'>[] = [];
      const out: Moved[] = [];
      for (const [key, r] of results) {
        const status = statuses.get(key)!;
        const prev = stored.get(key);
        // A report no newer than the stored state (a repeat after a restart) changes nothing.
        if (prev && prev.evaluated_at >= at) continue;
        const changed = prev !== undefined && prev.status !== status;
        states.push({
          host_id: e.hostId,
          pack_id: r.pack,
          rule_id: r.rule,
          status,
          detail: r.detail,
          since: prev && !changed ? prev.since : at,
          evaluated_at: at,
        });
        if (changed)
          changes.push({
            host_id: e.hostId,
            pack_id: r.pack,
            rule_id: r.rule,
            from_status: prev.status,
            to_status: status,
            detail: r.detail,
            at,
          });
        if (!prev || changed)
          out.push({ ...r, from: prev?.status ?? null, to: status, detail: r.detail });
      }
      if (states.length > 0) await s.saveStates(states);
      if (changes.length > 0) await s.addChanges(changes);
      if (stale.length > 0) {
        await s.deleteStates(stale);
        for (const r of stale)
          if (r.status === 'fail')
            out.push({
              pack: r.pack_id,
              rule: r.rule_id,
              from: 'fail',
              to: 'not_applicable',
              detail: null,
            });
      }
      return out;
    });
    if (moved.length > 0) await raise(e, moved, at);
  }

  /** Fires the alerts of rules that began failing, and clears those of rules that pass again. */
  async function raise(e: IngestEvent, moved: Moved[], at: number): Promise<void> {
    const { alert_min_severity: min } = await deps.config();
    for (const m of moved) {
      const rule = catalog.rule(m.pack, m.rule);
      const key: AlertKey = {
        ruleId: COMPLIANCE_RULE_ID,
        hostId: e.hostId,
        labels: { rule: m.rule },
      };
      try {
        if (rule && m.to === 'fail' && alerts(rule.severity, min)) {
          const signal: AlertSignal = {
            ...key,
            type: 'compliance',
            severity: alertSeverityOf(rule.severity),
            message: `Compliance rule ${m.rule} fails: ${rule.title}${m.detail ? ` (${m.detail})` : ''}`,
            value: null,
            threshold: null,
            agentId: e.agentId,
            at,
          };
          await deps.sink.fire(signal);
        } else if (m.from === 'fail' && CLEARS.has(m.to)) await deps.sink.clear(key, at);
      } catch (err) {
        deps.log(err, 'compliance alert failed');
      }
    }
  }

  return {
    /**
     * The `INGEST_TOPIC` subscriber: synchronous (and nothing at all) for a document without a
     * report or with an evaluation already taken in for its host.
     */
    onIngest(e: IngestEvent): Promise<void> | undefined {
      const report = e.doc.compliance;
      if (!report || typeof report.evaluated_at !== 'number') return undefined;
      if (seen.get(e.hostId) === report.evaluated_at) return undefined;
      if (seen.size > 100_000) seen.clear();
      seen.set(e.hostId, report.evaluated_at);
      return record(e, report).catch((err: unknown) => {
        // Not taken in: the next push of the same evaluation tries again.
        seen.delete(e.hostId);
        throw err;
      });
    },
  };
}

/** The ingest side of compliance. */
export type ComplianceIngest = ReturnType<typeof createComplianceIngest>;
