import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { Answer, BodyOf } from '../../api/types';
import { logRuleText } from './log-rule';

/** An alert rule as `GET /api/v1/alerts/rules` lists it. */
export type Rule = Answer<'/api/v1/alerts/rules'>['items'][number];

/** What a rule is made of when it is sent (`POST`, `PATCH`, preview). */
export type RuleBody = BodyOf<'/api/v1/alerts/rules/{id}', 'patch'>;

/** A rule's kind. */
export type RuleKind = Rule['kind'];

/** A rule's comparator. */
export type Comparator = NonNullable<Rule['comparator']>;

/** A label matcher: a value (equality) or an operator and a value. */
export type Matcher = Rule['matchers'][string];

/** Tyto's global thresholds (`GET /api/v1/alerts` `config`). */
export type Thresholds = Answer<'/api/v1/alerts'>['config'];

/** What a preview answers: the hosts that breach the rule now. */
export type Preview = Answer<'/api/v1/alerts/rules:preview', 'post'>;

/** The query key of the rule list. */
export const RULES_KEY = ['alerts', 'rules'] as const;

/** The query key of one rule. */
export const ruleKey = (id: string) => ['alerts', 'rules', id] as const;

/** The query key of the global thresholds (read from the alert list's `config`). */
export const THRESHOLDS_KEY = ['alerts', 'config'] as const;

/** Every alert rule, built-in ones first (`GET /api/v1/alerts/rules`). */
export function useRules() {
  return useQuery({
    queryKey: RULES_KEY,
    queryFn: () => unwrap(api.GET('/api/v1/alerts/rules')),
  });
}

/** One rule (`GET /api/v1/alerts/rules/{id}`); disabled for a new one. */
export function useRule(id: string | null) {
  return useQuery({
    queryKey: ruleKey(id ?? ''),
    queryFn: () => unwrap(api.GET('/api/v1/alerts/rules/{id}', { params: { path: { id: id! } } })),
    enabled: id !== null,
  });
}

/**
 * The global thresholds: the `config` of `GET /api/v1/alerts`, asked with the smallest page
 * since only the thresholds are read here.
 */
export function useThresholds() {
  return useQuery({
    queryKey: THRESHOLDS_KEY,
    queryFn: async () =>
      (await unwrap(api.GET('/api/v1/alerts', { params: { query: { limit: '1' } } }))).config,
  });
}

/** Each kind in words, for the list and the kind picker. */
export const KIND_TEXT: Record<RuleKind, string> = {
  threshold: 'Threshold on a series',
  check: 'Custom check in a non-OK hard state',
  agent_offline: 'Agent offline',
  cert_expiry: 'Agent certificate expiring',
  host_unreachable: 'Host unreachable',
  disk_forecast: 'Disk predicted full',
  log_count: 'Log lines matching a filter',
};

/** Every comparator, in the order the picker offers them. */
export const COMPARATORS: readonly Comparator[] = ['>', '>=', '<', '<='];

/** A matcher in PromQL's words: `mount="/"`, `device=~"sd.*"`. */
export function matcherText(label: string, m: Matcher): string {
  const [op, value] = typeof m === 'string' ? ['=', m] : [m.op, m.value];
  return `${label}${op}"${value}"`;
}

/** What a rule watches, in one line: `cpu_usage_percent{mode="user"} > 80 / 95`. */
export function conditionText(r: Rule): string {
  if (r.kind !== 'threshold') {
    if (r.kind === 'cert_expiry') return `within ${r.warning ?? '—'} / ${r.critical ?? '—'} days`;
    if (r.kind === 'disk_forecast') return `full within ${String(r.params.hours ?? '—')} h`;
    if (r.kind === 'check' && r.params.flapping === true) return 'flapping';
    if (r.kind === 'log_count') return logRuleText(r);
    return '';
  }
  const m = Object.entries(r.matchers).map(([l, v]) => matcherText(l, v));
  const series = `${r.metric ?? ''}${m.length ? `{${m.join(',')}}` : ''}`;
  const global = typeof r.params.global === 'string' ? r.params.global : null;
  const levels =
    r.warning === null && r.critical === null && global
      ? `the global ${global} thresholds`
      : `${r.warning ?? '—'} / ${r.critical ?? '—'}`;
  return `${series} ${r.comparator ?? '>'} ${levels}`;
}
