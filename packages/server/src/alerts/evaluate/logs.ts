import type { LogLevel, LogSource } from '@vigil/protocol';
import { breather } from './breather.js';
import { logRuleParams } from '../log-rule.js';
import { canonicalLabels, type AlertKey, type AlertSink, type Severity } from '../model.js';
import {
  effectiveThresholds,
  inScope,
  severityOf,
  type AlertOverrides,
  type EffectiveThresholds,
  type HostFacts,
  type Rule,
} from '../rules.js';

/** What a `log_count` rule counts: its filter, over a window (epoch ms, inclusive). */
export interface LogCountQuery {
  host_id?: string;
  q?: string;
  levels?: LogLevel[];
  source?: LogSource;
  source_name?: string;
  from: number;
  to: number;
}

/** A stored log line as the bus announces it, as much as the evaluator reads of it. */
export interface AnnouncedLogLine {
  host_id: string | null;
  source: LogSource;
  source_name: string;
  level: LogLevel;
  message: string;
}

/** What the log rule evaluator reads and where it reports, declared here where it is used. */
export interface LogRuleDeps {
  rules: { all(): Promise<Rule[]>; onChange(fn: () => void): void };
  sink: AlertSink;
  hosts: {
    /** Every enabled host's id. */
    ids(): Promise<string[]>;
    /** A host's facts for scopes; undefined for an unknown or deleted host. */
    facts(hostId: string): Promise<HostFacts | undefined>;
  };
  /** A host's overrides (its resolved `vars.alerts`): `rules.<id>` tunes or disables a rule. */
  overrides(hostId: string): Promise<AlertOverrides>;
  logs: {
    /** Lines matching `query`, counting at most `cap` (then `cap`). */
    count(query: LogCountQuery, cap: number): Promise<number>;
    /** A test of a message against a full-text query, as the store would match it. */
    textMatcher(q: string): (message: string) => boolean;
  };
  now: () => number;
  log: (err: unknown, what: string) => void;
}

/** How often every log rule is evaluated for every host: resolving needs time alone. */
export const LOG_RULES_PERIOD_MS = 30_000;
/** How long announced lines are gathered before the hosts they came from are evaluated. */
const EVENT_DELAY_MS = 1_000;
/** How long the open alerts read from the sink are trusted by event-driven evaluations. */
const OPEN_TTL_MS = 15_000;

const keyOf = (k: AlertKey) => `${k.ruleId}\n${k.hostId}\n${canonicalLabels(k.labels)}`;
const lower = (r: Rule) => r.comparator === '<' || r.comparator === '<=';

/** The filter of a rule, without its window. */
function filterOf(rule: Rule): Omit<LogCountQuery, 'from' | 'to'> {
  const p = logRuleParams(rule);
  const f: Omit<LogCountQuery, 'from' | 'to'> = {};
  if (p.q !== undefined) f.q = p.q;
  if (p.level !== undefined) f.levels = p.level;
  if (p.source !== undefined) f.source = p.source;
  if (p.source_name !== undefined) f.source_name = p.source_name;
  return f;
}

/** A test of one announced line against a rule's filter (time aside). */
function lineMatcher(
  f: Omit<LogCountQuery, 'from' | 'to'>,
  textMatcher: (q: string) => (message: string) => boolean,
): (line: AnnouncedLogLine) => boolean {
  const text = f.q !== undefined ? textMatcher(f.q) : () => true;
  const levels = f.levels ? new Set<string>(f.levels) : undefined;
  return (line) =>
    (f.source === undefined || line.source === f.source) &&
    (f.source_name === undefined || line.source_name === f.source_name) &&
    (levels === undefined || levels.has(line.level)) &&
    text(line.message);
}

const humanWindow = (s: number) =>
  s % 3600 === 0 ? `${s / 3600} h` : s % 60 === 0 ? `${s / 60} min` : `${s} s`;

/**
 * The evaluator of `log_count` rules. `tick()` (every 30 s, on one process of the cluster)
 * counts each enabled rule's matching lines of each host in its scope over the rule's window and
 * raises, changes or resolves the host's alert (one per rule and host) through the sink; when no
 * host could breach (a `>`/`>=` rule whose count over all hosts is below every host's lowest
 * threshold) it counts once, not per host. `onLogs` (a `LOGS_TOPIC` subscriber) evaluates the
 * hosts that sent lines matching a rule a second later, so that an alert opens without waiting
 * for the tick. The open alerts are read from the sink, so any process can evaluate: the sink's
 * calls are idempotent.
 */
export function createLogRuleEvaluator(deps: LogRuleDeps) {
  /** Every `log_count` rule id seen: an open alert of one that is gone is resolved. */
  const known = new Set<string>();
  let open: { at: number; map: Map<string, { key: AlertKey; severity: Severity }> } | undefined;
  let rules: Rule[] | undefined;
  /** Hosts to evaluate soon, by rule id; `pendingAll`: by every rule (lines came before they loaded). */
  const pending = new Map<string, Set<string>>();
  const pendingAll = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<void>>();
  const matchers = new WeakMap<Rule, (line: AnnouncedLogLine) => boolean>();
  const matcherOf = (rule: Rule) => {
    let m = matchers.get(rule);
    if (m === undefined)
      matchers.set(rule, (m = lineMatcher(filterOf(rule), deps.logs.textMatcher)));
    return m;
  };
  deps.rules.onChange(() => (rules = undefined));

  const logRules = async (): Promise<Rule[]> => {
    rules ??= (await deps.rules.all()).filter((r) => r.kind === 'log_count');
    for (const r of rules) known.add(r.id);
    return rules;
  };

  const openAlerts = async (fresh: boolean) => {
    const at = deps.now();
    if (fresh || !open || at - open.at >= OPEN_TTL_MS) {
      const map = new Map<string, { key: AlertKey; severity: Severity }>();
      for (const a of await deps.sink.open()) {
        if (!known.has(a.ruleId)) continue;
        const key: AlertKey = { ruleId: a.ruleId, hostId: a.hostId, labels: a.labels };
        map.set(keyOf(key), { key, severity: a.severity });
      }
      open = { at, map };
    }
    return open.map;
  };

  /** Sets one rule's condition on one host: fires on a change of severity, clears once. */
  const judge = async (
    map: Map<string, { key: AlertKey; severity: Severity }>,
    rule: Rule,
    host: HostFacts,
    t: EffectiveThresholds | undefined,
    count: number,
    at: number,
  ) => {
    const key: AlertKey = { ruleId: rule.id, hostId: host.id, labels: {} };
    const sk = keyOf(key);
    const prev = map.get(sk);
    const cmp = rule.comparator ?? '>=';
    let severity: Severity | null = t ? severityOf(cmp, count, t) : null;
    // Hysteresis: a firing alert clears only once the count is back past `recovery`.
    if (
      severity === null &&
      prev &&
      t !== undefined &&
      t.recovery !== null &&
      severityOf(cmp, count, { warning: t.recovery, critical: null }) !== null
    )
      severity = prev.severity;
    if (severity === null) {
      if (!prev) return;
      map.delete(sk);
      await deps.sink.clear(key, at);
      return;
    }
    if (prev?.severity === severity) return;
    map.set(sk, { key, severity });
    const threshold = severity === 'critical' ? t!.critical : t!.warning;
    const p = logRuleParams(rule);
    await deps.sink.fire({
      ...key,
      type: 'log_count',
      severity,
      message: `${rule.name}: ${count} matching log lines on ${host.name} in the last ${humanWindow(p.window_seconds)} (${cmp} ${threshold})`,
      value: count,
      threshold,
      agentId: null,
      at,
    });
  };

  /** Evaluates `rule` for `hosts` at `at`. @throws what the log count or the sink throws. */
  const evaluate = async (
    rule: Rule,
    hosts: HostFacts[],
    map: Map<string, { key: AlertKey; severity: Severity }>,
    at: number,
    whole: boolean,
  ) => {
    const filter = filterOf(rule);
    const window = logRuleParams(rule).window_seconds * 1000;
    const span = { from: at - window, to: at };
    const plans: { host: HostFacts; t: EffectiveThresholds | undefined }[] = [];
    const pause = breather();
    for (const host of hosts) {
      if (!inScope(rule.scope, host)) continue;
      await pause();
      const t = effectiveThresholds(rule, {}, await deps.overrides(host.id));
      plans.push({ host, t: t.enabled ? t : undefined });
    }
    // A threshold above the cap is out of reach; counting stops just past the highest one.
    const limits = plans.flatMap((p) =>
      p.t ? [p.t.warning, p.t.critical, p.t.recovery].filter((x): x is number => x !== null) : [],
    );
    if (limits.length === 0) {
      for (const p of plans) await judge(map, rule, p.host, undefined, 0, at);
      return;
    }
    const cap = Math.max(...limits) + 1;
    if (whole && !lower(rule)) {
      // No host can breach when all of them together stay below the lowest threshold.
      const total = await deps.logs.count({ ...filter, ...span }, cap);
      const least = Math.min(...limits);
      const quiet = rule.comparator === '>' ? total <= least : total < least;
      if (quiet) {
        for (const p of plans) await judge(map, rule, p.host, p.t, 0, at);
        return;
      }
    }
    for (const p of plans) {
      await pause();
      const count = p.t
        ? await deps.logs.count({ ...filter, ...span, host_id: p.host.id }, cap)
        : 0;
      await judge(map, rule, p.host, p.t, count, at);
    }
  };

  const facts = async (ids: Iterable<string>) => {
    const out: HostFacts[] = [];
    const pause = breather();
    for (const id of ids) {
      await pause();
      const f = await deps.hosts.facts(id);
      if (f) out.push(f);
    }
    return out;
  };

  const track = (p: Promise<void>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
    return p;
  };

  /** Evaluates the hosts that sent matching lines. */
  const evaluatePending = async () => {
    timer = undefined;
    const byRule = new Map(pending);
    const all = [...pendingAll];
    pending.clear();
    pendingAll.clear();
    const at = deps.now();
    const list = (await logRules()).filter((r) => r.enabled);
    if (list.length === 0) return;
    const map = await openAlerts(false);
    for (const rule of list) {
      const ids = new Set([...all, ...(byRule.get(rule.id) ?? [])]);
      if (ids.size > 0) await evaluate(rule, await facts(ids), map, at, false);
    }
  };

  return {
    /**
     * Every enabled rule for every enabled host; then the open alerts of rules deleted or
     * disabled, and of hosts gone or out of scope, are resolved.
     */
    async tick(): Promise<void> {
      const run = async () => {
        const at = deps.now();
        rules = undefined;
        const all = await logRules();
        // No log rule was ever seen here: nothing to evaluate, no alert of one to resolve.
        if (known.size === 0) return;
        const map = await openAlerts(true);
        const hosts = await facts(await deps.hosts.ids());
        const enabled = all.filter((r) => r.enabled);
        for (const rule of enabled) {
          try {
            await evaluate(rule, hosts, map, at, true);
          } catch (err) {
            deps.log(err, `evaluating log rule ${rule.id} failed`);
          }
        }
        const live = new Map(enabled.map((r) => [r.id, r]));
        const byId = new Map(hosts.map((h) => [h.id, h]));
        for (const [sk, c] of map) {
          const rule = live.get(c.key.ruleId);
          const host = byId.get(c.key.hostId);
          if (rule && host && inScope(rule.scope, host)) continue;
          map.delete(sk);
          await deps.sink.clear(c.key, at);
        }
      };
      await track(run());
    },

    /** The `LOGS_TOPIC` subscriber: hosts with lines that match a rule are evaluated soon. */
    onLogs(e: { entries: AnnouncedLogLine[] }): void {
      const list = rules;
      if (list === undefined) {
        // The rules are not loaded yet: load them, and take these lines as matching.
        void logRules().catch((err: unknown) => deps.log(err, 'loading log rules failed'));
      }
      for (const line of e.entries) {
        if (line.host_id === null) continue;
        if (list === undefined) {
          pendingAll.add(line.host_id);
          continue;
        }
        for (const rule of list) {
          if (!rule.enabled || lower(rule) || !matcherOf(rule)(line)) continue;
          let hosts = pending.get(rule.id);
          if (!hosts) pending.set(rule.id, (hosts = new Set()));
          hosts.add(line.host_id);
        }
      }
      if ((pending.size > 0 || pendingAll.size > 0) && !timer) {
        timer = setTimeout(
          () =>
            void track(
              evaluatePending().catch((err: unknown) =>
                deps.log(err, 'evaluating log rules failed'),
              ),
            ),
          EVENT_DELAY_MS,
        );
        timer.unref();
      }
    },

    /** Waits for the evaluations under way (tests, shutdown); cancels a scheduled one. */
    async idle(): Promise<void> {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
        pending.clear();
        pendingAll.clear();
      }
      while (running.size > 0) await Promise.all([...running]);
    },

    /** The scheduler's job: `tick` every 30 s, once per period in the cluster. */
    job(): { name: string; everyMs: number; run: () => Promise<void>; scope: 'cluster' } {
      return {
        name: 'log-alert-evaluation',
        everyMs: LOG_RULES_PERIOD_MS,
        run: () => this.tick(),
        scope: 'cluster',
      };
    },
  };
}

/** The log rule evaluator. */
export type LogRuleEvaluator = ReturnType<typeof createLogRuleEvaluator>;
