import { randomUUID } from 'node:crypto';
import { createAudited, type Transact } from '../audit/audited.js';
import type { AuditStore, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { GlobalThresholds, Severity } from './model.js';
import {
  compileMatchers,
  effectiveThresholds,
  inScope,
  severityOf,
  validateRule,
  type AlertOverrides,
  type HostFacts,
  type Rule,
  type RuleInput,
} from './rules.js';

/** Where alert rules are kept. Lookups return undefined when absent. */
export interface RuleStore {
  /** Every rule: built-ins first, then oldest first. */
  list(): Promise<Rule[]>;
  get(id: string): Promise<Rule | undefined>;
  insert(rule: Rule): Promise<void>;
  /** Replaces every column but the id, `builtin` and `created_at`. */
  replace(rule: Rule): Promise<void>;
  delete(id: string): Promise<boolean>;
}

/** The stores a rule mutation writes to, within one transaction. */
export interface RuleStores {
  rules: RuleStore;
  audit: AuditStore;
}

/** A rule as the API shows it: times RFC 3339. */
export type RuleView = Omit<Rule, 'created_at' | 'updated_at'> & {
  created_at: string;
  updated_at: string;
};

/** One host that would fire under a previewed rule. */
export interface PreviewItem {
  host_id: string;
  host_name: string;
  labels: Record<string, string>;
  value: number;
  severity: Exclude<Severity, 'info'>;
}

/** What the preview reads: the fleet, each host's latest samples, thresholds and overrides. */
export interface PreviewSource {
  /** Every enabled host, with what scopes match on. */
  hosts(): Promise<HostFacts[]>;
  /** The samples of a host's latest stored document (`metric{label="v",…}` keys). */
  latestSamples(
    hostId: string,
  ): Promise<{ keys: readonly string[]; values: ArrayLike<number> } | undefined>;
  /** Tyto's global thresholds. */
  thresholds: { get(): Promise<GlobalThresholds> };
  /** The host's alert overrides (its resolved `vars.alerts`). */
  overrides(hostId: string): Promise<AlertOverrides>;
  /** Splits a series key into its metric and labels. */
  parseKey(key: string): { metric: string; labels: Record<string, string> };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A rule as the API shows it. */
export const ruleView = (r: Rule): RuleView => ({
  ...r,
  created_at: iso(r.created_at),
  updated_at: iso(r.updated_at),
});

/** A rule made of what was given, with every other field at its default. */
function withDefaults(input: RuleInput, id: string, at: number): Rule {
  return {
    id,
    name: input.name ?? '',
    description: input.description ?? null,
    enabled: input.enabled ?? true,
    kind: input.kind ?? 'threshold',
    metric: input.metric ?? null,
    matchers: input.matchers ?? {},
    comparator:
      input.comparator ?? (input.kind === undefined || input.kind === 'threshold' ? '>' : null),
    warning: input.warning ?? null,
    critical: input.critical ?? null,
    for_seconds: input.for_seconds ?? 0,
    recovery: input.recovery ?? null,
    keep_firing_for_seconds: input.keep_firing_for_seconds ?? 0,
    scope: input.scope ?? {},
    params: input.params ?? (input.kind === 'disk_forecast' ? { hours: 24 } : {}),
    builtin: false,
    created_at: at,
    updated_at: at,
  };
}

/** The fields of a built-in rule that cannot change (what makes it that built-in). */
const FIXED_OF_BUILTIN = ['kind', 'metric', 'matchers', 'params'] as const;

/**
 * Alert rules: CRUD (every change audited and announced to `onChange` listeners, so that the
 * evaluator drops what it cached) and the preview. Built-in rules can be tuned and disabled,
 * never deleted (409 `rule.builtin`).
 */
export function createRuleService(deps: {
  store: RuleStore;
  transact: Transact<RuleStores>;
  preview: PreviewSource;
  now: () => number;
}) {
  const { store, preview, now } = deps;
  const audited = createAudited(deps.transact, now);
  const listeners: (() => void)[] = [];
  const changed = () => {
    for (const l of listeners) l();
  };
  const require = async (s: RuleStore, id: string) => {
    const r = await s.get(id);
    if (!r) throw new VigilError('not_found', `alert rule ${id}`, { code: 'rule.not_found' });
    return r;
  };
  return {
    /** Calls `fn` after every committed change of a rule. */
    onChange(fn: () => void): void {
      listeners.push(fn);
    },

    /** Every rule, as stored (for the evaluator). */
    all: (): Promise<Rule[]> => store.list(),

    /** Every rule as the API shows it. */
    async list(): Promise<{ items: RuleView[]; total: number }> {
      const items = (await store.list()).map(ruleView);
      return { items, total: items.length };
    },

    /** One rule. @throws VigilError not_found. */
    async get(id: string): Promise<RuleView> {
      return ruleView(await require(store, id));
    },

    /** Creates a rule. @throws VigilError bad_data naming the field. */
    async create(ctx: RequestContext, input: RuleInput): Promise<RuleView> {
      const rule = validateRule(withDefaults(input, randomUUID(), now()));
      await audited(
        ctx,
        { action: 'alert_rule.create', resourceType: 'alert_rule', resourceId: rule.id },
        async (s, draft) => {
          await s.rules.insert(rule);
          draft.entry.detail = { name: rule.name, kind: rule.kind };
        },
      );
      changed();
      return ruleView(rule);
    },

    /**
     * Changes a rule: the fields given replace the stored ones. A built-in rule's kind, metric,
     * matchers and params stay (400 naming the field).
     * @throws VigilError not_found, bad_data.
     */
    async update(ctx: RequestContext, id: string, patch: RuleInput): Promise<RuleView> {
      const out = await audited(
        ctx,
        { action: 'alert_rule.update', resourceType: 'alert_rule', resourceId: id },
        async (s, draft) => {
          const prev = await require(s.rules, id);
          if (prev.builtin)
            for (const f of FIXED_OF_BUILTIN)
              if (patch[f] !== undefined && JSON.stringify(patch[f]) !== JSON.stringify(prev[f]))
                throw new VigilError('bad_data', `${f}: a built-in rule's ${f} cannot change`, {
                  code: 'validation_failed',
                });
          const given = Object.fromEntries(
            Object.entries(patch).filter(([, v]) => v !== undefined),
          ) as RuleInput;
          const next = validateRule({ ...prev, ...given, id, updated_at: now() });
          await s.rules.replace(next);
          draft.entry.detail = { fields: Object.keys(given).sort() };
          return next;
        },
      );
      changed();
      return ruleView(out);
    },

    /** Deletes a rule. @throws VigilError not_found; conflict `rule.builtin` for a built-in. */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      await audited(
        ctx,
        { action: 'alert_rule.delete', resourceType: 'alert_rule', resourceId: id },
        async (s, draft) => {
          const prev = await require(s.rules, id);
          if (prev.builtin)
            throw new VigilError('conflict', `${id} is built in: disable it instead`, {
              code: 'rule.builtin',
            });
          await s.rules.delete(id);
          draft.entry.detail = { name: prev.name };
        },
      );
      changed();
    },

    /**
     * Which hosts a threshold rule would fire on now, from each host's latest stored samples
     * (its `for` is not waited for: the answer is what breaches now). Other kinds are judged
     * only as data arrives: 400 `rule.preview_unsupported`.
     */
    async preview(input: RuleInput): Promise<{ items: PreviewItem[]; evaluated_hosts: number }> {
      const rule = validateRule(withDefaults(input, 'preview', now()));
      if (rule.kind !== 'threshold')
        throw new VigilError('bad_data', `kind: only threshold rules can be previewed`, {
          code: 'rule.preview_unsupported',
        });
      const matchers = compileMatchers(rule.matchers);
      const globals = await preview.thresholds.get();
      const hosts = (await preview.hosts()).filter((h) => inScope(rule.scope, h));
      const items: PreviewItem[] = [];
      for (const host of hosts) {
        const samples = await preview.latestSamples(host.id);
        if (!samples) continue;
        const t = effectiveThresholds(
          rule,
          globals as unknown as Record<string, { warning: number; critical: number }>,
          await preview.overrides(host.id),
        );
        if (!t.enabled) continue;
        for (let i = 0; i < samples.keys.length; i++) {
          const key = samples.keys[i]!;
          if (!key.startsWith(rule.metric!)) continue;
          const { metric, labels } = preview.parseKey(key);
          if (metric !== rule.metric || !matchers.test(labels)) continue;
          const value = samples.values[i]!;
          const severity = severityOf(rule.comparator!, value, t);
          if (severity !== null)
            items.push({ host_id: host.id, host_name: host.name, labels, value, severity });
        }
      }
      return { items, evaluated_hosts: hosts.length };
    },
  };
}

/** The alert rules service. */
export type RuleService = ReturnType<typeof createRuleService>;
