import type { CompliancePack } from '@vigil/protocol';
import type { ComplianceStore, PackScope } from './model.js';
import type { PackCatalog } from './packs.js';

/** Beyond this many hosts, the states of every host are counted (no list of ids in the query). */
const MAX_LISTED_HOSTS = 500;

/** A host's rule states counted by status, with the newest evaluation counted (epoch ms). */
export interface HostStateSummary {
  passing: number;
  failing: number;
  errors: number;
  not_applicable: number;
  total: number;
  /** passing / (passing + failing); null with neither. */
  score: number | null;
  evaluatedAt: number | null;
}

/**
 * The rules a framework names, by pack: a pack whose id is the framework (any case) with all its
 * rules, else the rules one of whose references' `framework` contains it (any case). No
 * framework: every rule of every loaded pack.
 */
export function scopeOf(packs: readonly CompliancePack[], framework: string | null): PackScope[] {
  if (framework === null) return packs.map((p) => ({ pack: p.id }));
  const needle = framework.toLowerCase();
  const scope: PackScope[] = [];
  for (const p of packs) {
    if (p.id.toLowerCase() === needle) {
      scope.push({ pack: p.id });
      continue;
    }
    const rules = p.rules
      .filter((r) => r.references.some((ref) => ref.framework.toLowerCase().includes(needle)))
      .map((r) => r.id);
    if (rules.length === p.rules.length) scope.push({ pack: p.id });
    else if (rules.length > 0) scope.push({ pack: p.id, rules });
  }
  return scope;
}

/**
 * Hosts' compliance summaries for the hosts overview: the counts of their current rule states of
 * the loaded packs (of a framework's rules when one is given), one grouped query per call (by host
 * and status, restricted to the framework's rules), whatever the fleet's size. States of a pack
 * no longer loaded are not counted.
 */
export function createHostSummaries(deps: {
  catalog: PackCatalog;
  store: Pick<ComplianceStore, 'stateCounts'>;
}) {
  const { catalog, store } = deps;
  /** The scope of each framework asked for: packs are loaded once, at start. */
  const scopes = new Map<string, PackScope[]>();
  const scopeFor = (framework: string | null): PackScope[] => {
    const key = framework === null ? '' : `:${framework.toLowerCase()}`;
    let scope = scopes.get(key);
    if (!scope) {
      scope = scopeOf(catalog.packs, framework);
      if (scopes.size >= 1000) scopes.clear();
      scopes.set(key, scope);
    }
    return scope;
  };
  return {
    /**
     * The summaries of these hosts (those without a counted state are absent), of the rules of
     * `framework` when given; an unknown framework counts nothing.
     */
    async summaries(
      hostIds: readonly string[],
      framework: string | null,
    ): Promise<Map<string, HostStateSummary>> {
      const out = new Map<string, HostStateSummary>();
      const scope = scopeFor(framework);
      if (hostIds.length === 0 || scope.length === 0) return out;
      const wanted = new Set(hostIds);
      const rows = await store.stateCounts(
        scope,
        hostIds.length > MAX_LISTED_HOSTS ? undefined : hostIds,
      );
      for (const row of rows) {
        if (!wanted.has(row.host_id)) continue;
        let s = out.get(row.host_id);
        if (!s) {
          s = {
            passing: 0,
            failing: 0,
            errors: 0,
            not_applicable: 0,
            total: 0,
            score: null,
            evaluatedAt: null,
          };
          out.set(row.host_id, s);
        }
        if (row.status === 'pass') s.passing += row.rules;
        else if (row.status === 'fail') s.failing += row.rules;
        else if (row.status === 'error') s.errors += row.rules;
        else if (row.status === 'not_applicable') s.not_applicable += row.rules;
        else continue;
        s.total += row.rules;
        if (s.evaluatedAt === null || row.evaluated_at > s.evaluatedAt)
          s.evaluatedAt = row.evaluated_at;
      }
      for (const s of out.values())
        s.score = s.passing + s.failing === 0 ? null : s.passing / (s.passing + s.failing);
      return out;
    },
  };
}

/** Hosts' compliance summaries. */
export type HostSummaries = ReturnType<typeof createHostSummaries>;
