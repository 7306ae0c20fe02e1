import { LOG_WINDOW_DEFAULT_SECONDS, logFilterOf } from './log-rule';
import type { Comparator, Rule, RuleBody, RuleKind } from './queries';

/** A label matcher as edited: one row of the matcher list. */
export interface MatcherDraft {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** The scope lists as edited: comma-separated names. */
export type ScopeDraft = Record<'host_ids' | 'tags' | 'environments' | 'templates', string>;

/**
 * A rule being edited. Numbers are kept as typed (empty: none), so a half-typed value is not
 * rewritten under the cursor; `bodyOf` turns them into the request.
 */
export interface RuleDraft {
  name: string;
  description: string;
  enabled: boolean;
  kind: RuleKind;
  metric: string;
  matchers: MatcherDraft[];
  comparator: Comparator;
  warning: string;
  critical: string;
  forSeconds: string;
  recovery: string;
  keepFiringForSeconds: string;
  scope: ScopeDraft;
  /** `disk_forecast`: hours ahead. */
  hours: string;
  /** `check`: flap detection instead of hard states. */
  flapping: boolean;
  /** `host_unreachable`: failed probes before it fires. */
  failures: string;
  /** `log_count`: the full-text query (empty: every line). */
  logQ: string;
  /** `log_count`: the levels counted (none: every level). */
  logLevels: string[];
  /** `log_count`: the source (empty: any). */
  logSource: string;
  /** `log_count`: the source's name (empty: any). */
  logSourceName: string;
  /** `log_count`: the window the lines are counted over, in minutes. */
  windowMinutes: string;
  /** The params this editor does not edit, kept as they are (`global` of a built-in rule). */
  otherParams: Record<string, unknown>;
}

/** A new rule's starting point: a threshold rule on every host. */
export const NEW_RULE: RuleDraft = {
  name: '',
  description: '',
  enabled: true,
  kind: 'threshold',
  metric: '',
  matchers: [],
  comparator: '>',
  warning: '',
  critical: '',
  forSeconds: '60',
  recovery: '',
  keepFiringForSeconds: '0',
  scope: { host_ids: '', tags: '', environments: '', templates: '' },
  hours: '24',
  flapping: false,
  failures: '1',
  logQ: '',
  logLevels: [],
  logSource: '',
  logSourceName: '',
  windowMinutes: String(LOG_WINDOW_DEFAULT_SECONDS / 60),
  otherParams: {},
};

const text = (n: number | null | undefined): string =>
  n === null || n === undefined ? '' : String(n);

/** The draft of a stored rule. */
export function draftOf(r: Rule): RuleDraft {
  const { hours, flapping, failures, q, level, source, source_name, window_seconds, ...other } =
    r.params;
  const log = logFilterOf({ q, level, source, source_name, window_seconds });
  // Fields of the log filter on a rule of another kind are not this editor's to drop.
  const otherParams =
    r.kind === 'log_count' ? other : { ...other, q, level, source, source_name, window_seconds };
  for (const k of Object.keys(otherParams)) if (otherParams[k] === undefined) delete otherParams[k];
  return {
    name: r.name,
    description: r.description ?? '',
    enabled: r.enabled,
    kind: r.kind,
    metric: r.metric ?? '',
    matchers: Object.entries(r.matchers).map(([label, m]) =>
      typeof m === 'string' ? { label, op: '=', value: m } : { label, op: m.op, value: m.value },
    ),
    comparator: r.comparator ?? '>',
    warning: text(r.warning),
    critical: text(r.critical),
    forSeconds: String(r.for_seconds),
    recovery: text(r.recovery),
    keepFiringForSeconds: String(r.keep_firing_for_seconds),
    scope: {
      host_ids: (r.scope.host_ids ?? []).join(', '),
      tags: (r.scope.tags ?? []).join(', '),
      environments: (r.scope.environments ?? []).join(', '),
      templates: (r.scope.templates ?? []).join(', '),
    },
    hours: typeof hours === 'number' ? String(hours) : NEW_RULE.hours,
    flapping: flapping === true,
    failures: typeof failures === 'number' ? String(failures) : NEW_RULE.failures,
    logQ: log.q ?? '',
    logLevels: log.level ?? [],
    logSource: log.source ?? '',
    logSourceName: log.source_name ?? '',
    windowMinutes: String(log.window_seconds / 60),
    otherParams,
  };
}

/** A typed number, null when empty; what does not parse is sent as it is for the server to name. */
function num(s: string): number | null {
  if (s.trim() === '') return null;
  return Number(s);
}

/**
 * The window of a draft in seconds: minutes as typed, times 60; what does not parse is sent as
 * typed for the server to name.
 */
export function windowSecondsOf(d: RuleDraft): number | string {
  const n = Number(d.windowMinutes);
  return d.windowMinutes.trim() === '' || !Number.isFinite(n)
    ? d.windowMinutes
    : Math.round(n * 60);
}

/** A log rule's params: the filter fields that are set, and the window. */
function logParams(d: RuleDraft): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  if (d.logQ.trim()) params.q = d.logQ.trim();
  if (d.logLevels.length > 0) params.level = d.logLevels;
  if (d.logSource) params.source = d.logSource;
  if (d.logSourceName.trim()) params.source_name = d.logSourceName.trim();
  if (d.windowMinutes.trim() !== '') params.window_seconds = windowSecondsOf(d);
  return params;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * The request body of a draft. A built-in rule's kind, metric, matchers and params are fixed,
 * so they are left out for one (`builtin`).
 */
export function bodyOf(d: RuleDraft, builtin: boolean): RuleBody & { name: string } {
  const threshold = d.kind === 'threshold';
  // A log rule compares counts too; its window does the work of `for` and `keep firing for`.
  const log = d.kind === 'log_count';
  const counted = threshold || log;
  const body: RuleBody & { name: string } = {
    name: d.name.trim(),
    description: d.description.trim() || null,
    enabled: d.enabled,
    warning: num(d.warning),
    critical: num(d.critical),
    for_seconds: log ? 0 : (num(d.forSeconds) ?? 0),
    recovery: counted ? num(d.recovery) : null,
    keep_firing_for_seconds: log ? 0 : (num(d.keepFiringForSeconds) ?? 0),
    scope: {
      host_ids: list(d.scope.host_ids),
      tags: list(d.scope.tags),
      environments: list(d.scope.environments),
      templates: list(d.scope.templates),
    },
  };
  if (counted) body.comparator = d.comparator;
  if (builtin) return body;
  const params: Record<string, unknown> = { ...d.otherParams };
  if (d.kind === 'disk_forecast') params.hours = num(d.hours);
  if (d.kind === 'check' && d.flapping) params.flapping = true;
  if (d.kind === 'host_unreachable') params.failures = num(d.failures) ?? 1;
  if (log) Object.assign(params, logParams(d));
  return {
    ...body,
    kind: d.kind,
    metric: threshold ? d.metric.trim() : null,
    matchers: threshold
      ? Object.fromEntries(
          d.matchers
            .filter((m) => m.label.trim() !== '')
            .map((m) => [m.label.trim(), m.op === '=' ? m.value : { op: m.op, value: m.value }]),
        )
      : {},
    params,
  };
}
