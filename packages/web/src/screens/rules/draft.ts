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
  otherParams: {},
};

const text = (n: number | null | undefined): string =>
  n === null || n === undefined ? '' : String(n);

/** The draft of a stored rule. */
export function draftOf(r: Rule): RuleDraft {
  const { hours, flapping, failures, ...otherParams } = r.params;
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
    otherParams,
  };
}

/** A typed number, null when empty; what does not parse is sent as it is for the server to name. */
function num(s: string): number | null {
  if (s.trim() === '') return null;
  return Number(s);
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
  const body: RuleBody & { name: string } = {
    name: d.name.trim(),
    description: d.description.trim() || null,
    enabled: d.enabled,
    warning: num(d.warning),
    critical: num(d.critical),
    for_seconds: num(d.forSeconds) ?? 0,
    recovery: threshold ? num(d.recovery) : null,
    keep_firing_for_seconds: num(d.keepFiringForSeconds) ?? 0,
    scope: {
      host_ids: list(d.scope.host_ids),
      tags: list(d.scope.tags),
      environments: list(d.scope.environments),
      templates: list(d.scope.templates),
    },
  };
  if (threshold) body.comparator = d.comparator;
  if (builtin) return body;
  const params: Record<string, unknown> = { ...d.otherParams };
  if (d.kind === 'disk_forecast') params.hours = num(d.hours);
  if (d.kind === 'check' && d.flapping) params.flapping = true;
  if (d.kind === 'host_unreachable') params.failures = num(d.failures) ?? 1;
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
