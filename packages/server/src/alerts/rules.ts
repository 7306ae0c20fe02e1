import { VigilError } from '../errors.js';
import { validateLogRule } from './log-rule.js';
import type { Severity } from './model.js';

/** What a rule watches. */
export type RuleKind =
  | 'threshold'
  | 'check'
  | 'agent_offline'
  | 'cert_expiry'
  | 'host_unreachable'
  | 'disk_forecast'
  | 'log_count';

/** Every rule kind. */
export const RULE_KINDS: readonly RuleKind[] = [
  'threshold',
  'check',
  'agent_offline',
  'cert_expiry',
  'host_unreachable',
  'disk_forecast',
  'log_count',
];

/** How a value is compared with a threshold: `value <comparator> threshold` breaches. */
export type Comparator = '>' | '>=' | '<' | '<=';

/** Every comparator. */
export const COMPARATORS: readonly Comparator[] = ['>', '>=', '<', '<='];

/** A label matcher's operator, as PromQL's. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** A label matcher: a value (equality) or an operator and a value (a regex for `=~`, `!~`). */
export type Matcher = string | { op: MatchOp; value: string };

/** Which hosts a rule applies to; an empty or absent list does not restrict. */
export interface RuleScope {
  host_ids?: string[];
  tags?: string[];
  environments?: string[];
  templates?: string[];
}

/** An alert rule, as the API and the evaluator see it. Times are epoch ms. */
export interface Rule {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  kind: RuleKind;
  metric: string | null;
  matchers: Record<string, Matcher>;
  comparator: Comparator | null;
  warning: number | null;
  critical: number | null;
  for_seconds: number;
  /** The value a firing condition must get back past to clear; null: the lowest threshold. */
  recovery: number | null;
  keep_firing_for_seconds: number;
  scope: RuleScope;
  params: Record<string, unknown>;
  builtin: boolean;
  created_at: number;
  updated_at: number;
}

/** The fields a rule is created with (`POST /api/v1/alerts/rules`); the rest default. */
export type RuleInput = Partial<Omit<Rule, 'id' | 'builtin' | 'created_at' | 'updated_at'>> & {
  name?: string;
};

const bad = (field: string, message: string) =>
  new VigilError('bad_data', `${field}: ${message}`, { code: 'validation_failed' });

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const OPS: readonly MatchOp[] = ['=', '!=', '=~', '!~'];
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const GLOBALS = ['cpu', 'memory', 'disk'];

/** A regex anchored as PromQL anchors label regexes; throws bad_data naming `field`. */
function anchored(source: string, field: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    throw bad(field, 'not a valid regular expression');
  }
}

/**
 * Validates a whole rule (a new one, or a stored one with a change applied) and returns it
 * normalised. Every refusal is bad_data naming the field.
 */
export function validateRule(r: Rule): Rule {
  if (typeof r.name !== 'string' || r.name.trim() === '' || r.name.length > 200)
    throw bad('name', 'required, 1 to 200 characters');
  if (!RULE_KINDS.includes(r.kind)) throw bad('kind', `one of ${RULE_KINDS.join(', ')}`);
  for (const f of ['warning', 'critical', 'recovery'] as const) {
    const v = r[f];
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
      throw bad(f, 'a finite number or null');
  }
  for (const f of ['for_seconds', 'keep_firing_for_seconds'] as const) {
    const v = r[f];
    if (!Number.isInteger(v) || v < 0 || v > 30 * 86_400)
      throw bad(f, 'an integer of seconds, 0 to 2592000');
  }
  if (!isObj(r.matchers)) throw bad('matchers', 'an object of label matchers');
  for (const [label, m] of Object.entries(r.matchers)) {
    const field = `matchers.${label}`;
    if (!LABEL.test(label)) throw bad(field, 'not a label name');
    if (typeof m === 'string') continue;
    if (!isObj(m) || !OPS.includes(m.op as MatchOp) || typeof m.value !== 'string')
      throw bad(field, "a value or {op: '='|'!='|'=~'|'!~', value}");
    if (m.op === '=~' || m.op === '!~') anchored(m.value, field);
  }
  if (!isObj(r.scope)) throw bad('scope', 'an object');
  for (const [k, v] of Object.entries(r.scope)) {
    if (!['host_ids', 'tags', 'environments', 'templates'].includes(k))
      throw bad(`scope.${k}`, 'unknown (host_ids, tags, environments, templates)');
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
      throw bad(`scope.${k}`, 'a list of non-empty strings');
  }
  if (!isObj(r.params)) throw bad('params', 'an object');
  if (r.kind === 'threshold') {
    if (r.metric === null || !METRIC.test(r.metric)) throw bad('metric', 'a metric name');
    if (r.comparator === null || !COMPARATORS.includes(r.comparator))
      throw bad('comparator', `one of ${COMPARATORS.join(' ')}`);
    const global = r.params.global;
    if (global !== undefined && !GLOBALS.includes(global as string))
      throw bad('params.global', 'cpu, memory or disk');
    if (r.warning === null && r.critical === null && global === undefined)
      throw bad('warning', 'a warning or a critical threshold is required');
    const [w, c] = [r.warning, r.critical];
    if (w !== null && c !== null && breaches(r.comparator, w, c))
      throw bad('critical', 'must be at least as far past the warning threshold');
  } else {
    if (r.metric !== null) throw bad('metric', `not used by a ${r.kind} rule`);
  }
  if (r.kind === 'disk_forecast') {
    const h = r.params.hours;
    if (typeof h !== 'number' || !Number.isFinite(h) || h <= 0 || h > 24 * 365)
      throw bad('params.hours', 'a number of hours, above 0');
  }
  if (r.kind === 'cert_expiry') {
    if (r.warning === null && r.critical === null)
      throw bad('warning', 'a number of days is required');
  }
  if (r.kind === 'log_count') return validateLogRule({ ...r, name: r.name.trim() });
  return { ...r, name: r.name.trim() };
}

/** Whether `value` breaches `threshold` under the comparator. */
export function breaches(cmp: Comparator, value: number, threshold: number): boolean {
  switch (cmp) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/** A rule's matchers compiled once: `test(labels)` tells whether a series matches. */
export interface CompiledMatchers {
  test(labels: Record<string, string>): boolean;
}

/**
 * Compiles label matchers. As in PromQL, an absent label reads as the empty string, and
 * regexes are anchored at both ends.
 */
export function compileMatchers(matchers: Record<string, Matcher>): CompiledMatchers {
  const tests = Object.entries(matchers).map(([label, m]) => {
    const op = typeof m === 'string' ? '=' : m.op;
    const value = typeof m === 'string' ? m : m.value;
    const re = op === '=~' || op === '!~' ? anchored(value, `matchers.${label}`) : null;
    return (labels: Record<string, string>) => {
      const v = labels[label] ?? '';
      if (op === '=') return v === value;
      if (op === '!=') return v !== value;
      return re!.test(v) === (op === '=~');
    };
  });
  return { test: (labels) => tests.every((t) => t(labels)) };
}

/** What a host is, for rules' scopes and for the messages they make. */
export interface HostFacts {
  id: string;
  name: string;
  tags: readonly string[];
  environment: string | null;
  /** The templates its configuration imports, all levels. */
  templates: readonly string[];
}

/** Whether a rule's scope takes in a host: every non-empty list must name it. */
export function inScope(scope: RuleScope, host: HostFacts): boolean {
  const some = (list: string[] | undefined, has: (x: string) => boolean) =>
    list === undefined || list.length === 0 || list.some(has);
  return (
    some(scope.host_ids, (x) => x === host.id) &&
    some(scope.tags, (x) => host.tags.includes(x)) &&
    some(scope.environments, (x) => x === host.environment) &&
    some(scope.templates, (x) => host.templates.includes(x))
  );
}

/** A rule's thresholds as they apply to one host: after the global ones and its overrides. */
export interface EffectiveThresholds {
  enabled: boolean;
  warning: number | null;
  critical: number | null;
  /** Where a firing condition clears: the recovery given, else the lowest threshold. */
  recovery: number | null;
}

/**
 * Per-host and per-template overrides, as a host's resolved `vars.alerts` gives them:
 * `{cpu: {warning, critical}, memory: {…}, disk: {…}, rules: {"<rule id>": {warning, critical,
 * recovery, enabled}}}`. The global families apply to the built-in rule of that family
 * (`params.global`); `rules` applies to any rule by id and wins.
 */
export interface AlertOverrides {
  cpu?: { warning?: number; critical?: number };
  memory?: { warning?: number; critical?: number };
  disk?: { warning?: number; critical?: number };
  rules?: Record<
    string,
    { warning?: number; critical?: number; recovery?: number; enabled?: boolean }
  >;
}

/** Reads `vars.alerts` leniently: what is not of the documented shape is ignored. */
export function overridesOf(vars: Record<string, unknown> | undefined): AlertOverrides {
  const a = vars?.alerts;
  if (!isObj(a)) return {};
  const pair = (v: unknown) => {
    if (!isObj(v)) return undefined;
    const out: { warning?: number; critical?: number; recovery?: number; enabled?: boolean } = {};
    for (const k of ['warning', 'critical', 'recovery'] as const)
      if (typeof v[k] === 'number' && Number.isFinite(v[k])) out[k] = v[k] as number;
    if (typeof v.enabled === 'boolean') out.enabled = v.enabled;
    return out;
  };
  const out: AlertOverrides = {};
  for (const k of ['cpu', 'memory', 'disk'] as const) {
    const p = pair(a[k]);
    if (p) out[k] = p;
  }
  if (isObj(a.rules)) {
    out.rules = {};
    for (const [id, v] of Object.entries(a.rules)) {
      const p = pair(v);
      if (p) out.rules[id] = p;
    }
  }
  return out;
}

/**
 * Overrides laid over others, level by level: `vars` merge key by key only at their top, so a
 * host's `vars.alerts` would hide its templates' whole; merged here, a host that sets one rule's
 * level keeps its templates' family levels.
 */
export function mergeOverrides(base: AlertOverrides, over: AlertOverrides): AlertOverrides {
  const out: AlertOverrides = { ...base };
  for (const k of ['cpu', 'memory', 'disk'] as const)
    if (over[k]) out[k] = { ...base[k], ...over[k] };
  if (over.rules) {
    out.rules = { ...base.rules };
    for (const [id, o] of Object.entries(over.rules)) out.rules[id] = { ...base.rules?.[id], ...o };
  }
  return out;
}

/**
 * A rule's thresholds for a host: the rule's own, else (a built-in family rule with null
 * thresholds) the global ones; then the host's family override, then its rule override.
 */
export function effectiveThresholds(
  rule: Rule,
  globals: Record<string, { warning: number; critical: number }>,
  overrides: AlertOverrides,
): EffectiveThresholds {
  const family = typeof rule.params.global === 'string' ? rule.params.global : undefined;
  const g = family !== undefined ? globals[family] : undefined;
  let warning = rule.warning ?? (rule.critical === null ? (g?.warning ?? null) : null);
  let critical = rule.critical ?? (rule.warning === null ? (g?.critical ?? null) : null);
  let recovery = rule.recovery;
  let enabled = rule.enabled;
  const fam = family !== undefined ? overrides[family as 'cpu' | 'memory' | 'disk'] : undefined;
  const own = overrides.rules?.[rule.id];
  for (const o of [fam, own]) {
    if (!o) continue;
    if (o.warning !== undefined) warning = o.warning;
    if (o.critical !== undefined) critical = o.critical;
    if ('recovery' in o && typeof o.recovery === 'number') recovery = o.recovery;
    if ('enabled' in o && typeof o.enabled === 'boolean') enabled = o.enabled;
  }
  if (recovery === null) {
    const ts = [warning, critical].filter((t): t is number => t !== null);
    const lower = rule.comparator === '<' || rule.comparator === '<=';
    recovery = ts.length === 0 ? null : lower ? Math.max(...ts) : Math.min(...ts);
  }
  return { enabled, warning, critical, recovery };
}

/** The severity a value breaches at under thresholds, or null when it breaches none. */
export function severityOf(
  cmp: Comparator,
  value: number,
  t: { warning: number | null; critical: number | null },
): Exclude<Severity, 'info'> | null {
  if (t.critical !== null && breaches(cmp, value, t.critical)) return 'critical';
  if (t.warning !== null && breaches(cmp, value, t.warning)) return 'warning';
  return null;
}
