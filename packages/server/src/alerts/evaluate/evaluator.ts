import type { AgentStatusEvent, IngestEvent } from '../../events/types.js';
import { canonicalLabels, type AlertKey, type Severity } from '../model.js';
import {
  compileMatchers,
  effectiveThresholds,
  inScope,
  severityOf,
  type CompiledMatchers,
  type EffectiveThresholds,
  type HostFacts,
  type Rule,
  type RuleKind,
} from '../rules.js';
import { checkSeverity, stepFlapping, type FlapState } from './checks.js';
import type { EvaluatorDeps } from './deps.js';
import { judgePeriodic } from './periodic.js';
import { offlineAction } from './offline.js';
import {
  stepThreshold,
  tickThreshold,
  type ThresholdSpec,
  type ThresholdState,
} from './threshold.js';

/** A threshold rule as it applies to one host. */
interface Entry {
  rule: Rule;
  matchers: CompiledMatchers;
  t: EffectiveThresholds;
  spec: ThresholdSpec;
  type: string;
}

/**
 * A series that one entry judges, for any host (shared by every host of a shape). Its
 * condition's key and state key are made per host only when first needed (`Plan.made`): most
 * series of most hosts never breach.
 */
interface Match {
  entry: Entry;
  labels: Record<string, string>;
}

/** A series no rule judges (shared: most of a push's series). */
const NO_MATCHES: readonly Match[] = Object.freeze([]);

/**
 * The series of one key layout that some entry judges: their positions and matches, and for
 * each the values that can breach any of its matches at all (`value >= above` or
 * `value <= below`): a quiet host's value between them is passed by with two comparisons.
 */
interface Laid {
  index: number[];
  matches: (readonly Match[])[];
  above: number[];
  below: number[];
}

/**
 * The rules and thresholds that apply to a host, shared by every host they apply to alike (most
 * hosts of a fleet have the same, and a fleet of thousands holds one of these, not thousands).
 */
interface Shape {
  byMetric: Map<string, Entry[]>;
  /** The non-threshold rules that apply, with their thresholds. */
  other: Map<RuleKind, { rule: Rule; t: EffectiveThresholds }[]>;
  /** Series key → what judges it; the same key strings come push after push, host after host. */
  keys: Map<string, readonly Match[]>;
  /** Laid-out key lists, by the judged keys and their positions: hosts alike share one. */
  laid: Map<string, Laid>;
}

/** What a host's pushes are judged by: built once, kept `hostTtlMs`. */
interface Plan {
  at: number;
  host: HostFacts;
  shape: Shape;
  /** Key layout (IngestEvent.layout) → the positions of its judged series: no lookup per key. */
  layouts: Map<number, Laid>;
  /** The condition keys made for this host's matches (only those that ever needed one). */
  made?: Map<Match, { key: AlertKey; sk: string }>;
}

interface Condition {
  key: AlertKey;
  state: ThresholdState;
  spec: ThresholdSpec | undefined;
}

const STALE_MS = 300_000;
const FORECAST_EVERY_MS = 300_000;
/** The evaluator's tick (`job()`): absent data, keep_firing_for, the periodic built-ins. */
const TICK_MS = 15_000;
/** Hosts a tick may forecast however small the fleet's share. */
const FORECAST_MIN_BATCH = 50;

const keyOf = (k: AlertKey) => `${k.ruleId}\n${k.hostId}\n${canonicalLabels(k.labels)}`;

/** The alert `type` a rule raises: its global family, its metric, or its kind. */
export function typeOf(rule: Rule): string {
  if (typeof rule.params.global === 'string') return rule.params.global;
  if (rule.kind === 'threshold') return rule.metric ?? 'threshold';
  if (rule.kind === 'check' && rule.params.flapping === true) return 'check_flapping';
  return rule.kind;
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

/**
 * The rule evaluator. On ingest (`onIngest`, an `INGEST_TOPIC` subscriber) it judges the
 * push's series by the threshold rules that match the host (cached per host with their parsed
 * keys: O(rules matching the host) per push, never a scan of the fleet) and the push's check
 * results by the check rules; on agents' status changes (`onAgentStatus`) the offline rule.
 * `tick()` handles what no push will: `keep_firing_for` running out without data, pending
 * conditions of silent hosts, rules deleted or disabled, and the periodic built-ins
 * (certificates, liveness, disk forecast). It reports to the sink only on changes: firing,
 * a severity change, clearing.
 */
export function createEvaluator(deps: EvaluatorDeps) {
  const ttl = deps.hostTtlMs ?? 30_000;
  let rules: Rule[] | undefined;
  let rulesLoading: Promise<Rule[]> | undefined;
  const plans = new Map<string, Plan>();
  /** Shapes by their signature (the rules and thresholds that apply). */
  const shapes = new Map<string, Shape>();
  const conditions = new Map<string, Condition>();
  /** Each host's number of threshold conditions: a host without one skips most of the work. */
  const perHost = new Map<string, number>();
  const count = (hostId: string, by: number) => {
    const n = (perHost.get(hostId) ?? 0) + by;
    if (n > 0) perHost.set(hostId, n);
    else perHost.delete(hostId);
  };
  const setCondition = (sk: string, c: Condition) => {
    if (!conditions.has(sk)) count(c.key.hostId, 1);
    conditions.set(sk, c);
  };
  const dropCondition = (sk: string, c: Condition) => {
    if (conditions.delete(sk)) count(c.key.hostId, -1);
  };
  /** Open conditions of the other kinds, by state key: their severity. */
  const simple = new Map<string, { key: AlertKey; severity: Severity }>();
  const flaps = new Map<string, FlapState>();
  const chains = new Map<string, Promise<void>>();
  const refreshing = new Set<string>();
  /** Each rule's compiled matchers: a plan's rebuild compiles none again. */
  const compiled = new WeakMap<Rule, CompiledMatchers>();
  /** Series keys' labels: the fleet's hosts name the same series, push after push. */
  const parsed = new Map<string, Record<string, string>>();
  const labelsOf = (key: string): Record<string, string> => {
    let labels = parsed.get(key);
    if (labels === undefined) {
      if (parsed.size >= 100_000) parsed.clear();
      labels = deps.parseKey(key).labels;
      parsed.set(key, labels);
    }
    return labels;
  };
  const matchersOf = (rule: Rule): CompiledMatchers => {
    let m = compiled.get(rule);
    if (m === undefined) compiled.set(rule, (m = compileMatchers(rule.matchers)));
    return m;
  };
  // When each host's disks were last forecast. A host not forecast yet counts from the start: the
  // first forecast waits a period, as a starting server has its backlog to take in first.
  const startedAt = deps.now();
  const forecastAt = new Map<string, number>();
  /**
   * The hosts whose disk forecast is due at `at` (a period since their last), the longest
   * waiting first, at most a tick's share of the fleet (and at least `FORECAST_MIN_BATCH`): the
   * fleet's forecasts spread over the period instead of all landing on one tick.
   */
  const forecastDue = (hostIds: readonly string[], at: number): Set<string> => {
    const last = (id: string) => forecastAt.get(id) ?? startedAt;
    const due = hostIds.filter((id) => at - last(id) >= FORECAST_EVERY_MS);
    due.sort((a, b) => last(a) - last(b));
    const share = Math.max(
      FORECAST_MIN_BATCH,
      Math.ceil((hostIds.length * TICK_MS) / FORECAST_EVERY_MS),
    );
    const out = new Set(due.slice(0, share));
    for (const id of out) forecastAt.set(id, at);
    if (forecastAt.size > 2 * hostIds.length + FORECAST_MIN_BATCH) {
      const known = new Set(hostIds);
      for (const id of forecastAt.keys()) if (!known.has(id)) forecastAt.delete(id);
    }
    return out;
  };

  deps.rules.onChange(() => {
    rules = undefined;
    plans.clear();
    shapes.clear();
  });

  /** Runs sink calls of one condition in order. */
  const enqueue = (sk: string, op: () => Promise<void>): Promise<void> => {
    const p = (chains.get(sk) ?? Promise.resolve())
      .then(op)
      .catch((err: unknown) => deps.log(err, 'alert sink call failed'));
    chains.set(sk, p);
    void p.then(() => {
      if (chains.get(sk) === p) chains.delete(sk);
    });
    return p;
  };

  const loadRules = async (): Promise<Rule[]> => {
    if (rules) return rules;
    rulesLoading ??= deps.rules.all().finally(() => (rulesLoading = undefined));
    const loaded = await rulesLoading;
    rules = loaded;
    return loaded;
  };

  const buildPlan = async (hostId: string): Promise<Plan | undefined> => {
    const [all, host, globals, overrides] = await Promise.all([
      loadRules(),
      deps.hosts.facts(hostId),
      deps.thresholds.get(),
      deps.overrides(hostId),
    ]);
    const byMetric = new Map<string, Entry[]>();
    const other = new Map<RuleKind, { rule: Rule; t: EffectiveThresholds }[]>();
    if (!host) {
      // An unknown host is judged by nothing until its plan is built again.
      const empty: Plan = {
        at: deps.now(),
        host: { id: hostId, name: hostId, tags: [], environment: null, templates: [] },
        shape: { byMetric, other, keys: new Map(), laid: new Map() },
        layouts: new Map(),
      };
      plans.set(hostId, empty);
      return undefined;
    }
    const g = globals as unknown as Record<string, { warning: number; critical: number }>;
    for (const rule of all) {
      if (!inScope(rule.scope, host)) continue;
      const t = effectiveThresholds(rule, g, overrides);
      if (!t.enabled) continue;
      if (rule.kind !== 'threshold') {
        const list = other.get(rule.kind) ?? [];
        list.push({ rule, t });
        other.set(rule.kind, list);
        continue;
      }
      const entry: Entry = {
        rule,
        t,
        matchers: matchersOf(rule),
        type: typeOf(rule),
        spec: {
          comparator: rule.comparator ?? '>',
          warning: t.warning,
          critical: t.critical,
          recovery: t.recovery,
          forMs: rule.for_seconds * 1000,
          keepFiringForMs: rule.keep_firing_for_seconds * 1000,
        },
      };
      const list = byMetric.get(rule.metric!) ?? [];
      list.push(entry);
      byMetric.set(rule.metric!, list);
    }
    // Hosts alike share one shape; a rebuild that finds the same keeps the host's layouts.
    const signature = JSON.stringify([
      [...byMetric.values()].flat().map((e) => [e.rule.id, e.spec]),
      [...other.values()].flat().map((o) => [o.rule.id, o.t]),
    ]);
    let shape = shapes.get(signature);
    if (shape === undefined) {
      if (shapes.size >= 10_000) shapes.clear();
      shape = { byMetric, other, keys: new Map(), laid: new Map() };
      shapes.set(signature, shape);
    }
    const before = plans.get(hostId);
    if (before?.shape === shape) {
      before.at = deps.now();
      before.host = host;
      return before;
    }
    const plan: Plan = { at: deps.now(), host, shape, layouts: new Map() };
    plans.set(hostId, plan);
    return plan;
  };

  const matchesOf = (shape: Shape, key: string): readonly Match[] => {
    const known = shape.keys.get(key);
    if (known) return known;
    let m: readonly Match[] = NO_MATCHES;
    const brace = key.indexOf('{');
    const entries = shape.byMetric.get(brace < 0 ? key : key.slice(0, brace));
    if (entries) {
      const labels = labelsOf(key);
      const found: Match[] = [];
      for (const entry of entries) if (entry.matchers.test(labels)) found.push({ entry, labels });
      if (found.length > 0) m = found;
    }
    if (shape.keys.size > 20_000) shape.keys.clear();
    shape.keys.set(key, m);
    return m;
  };

  /** The judged series of a key layout, found once per plan and layout. */
  const laidOut = (plan: Plan, layout: number, keys: readonly string[]): Laid => {
    let laid = plan.layouts.get(layout);
    if (laid === undefined) {
      const { shape } = plan;
      laid = { index: [], matches: [], above: [], below: [] };
      for (let i = 0; i < keys.length; i++) {
        const m = matchesOf(shape, keys[i]!);
        if (m.length === 0) continue;
        let above = Infinity;
        let below = -Infinity;
        for (const { entry } of m)
          for (const t of [entry.spec.warning, entry.spec.critical]) {
            if (t === null) continue;
            if (entry.spec.comparator === '>' || entry.spec.comparator === '>=')
              above = Math.min(above, t);
            else below = Math.max(below, t);
          }
        laid.index.push(i);
        laid.matches.push(m);
        laid.above.push(above);
        laid.below.push(below);
      }
      // Hosts with the same judged keys at the same positions share one.
      const id = laid.index.map((i) => `${i}\t${keys[i]}`).join('\n');
      const same = shape.laid.get(id);
      if (same) laid = same;
      else {
        if (shape.laid.size >= 1_000) shape.laid.clear();
        shape.laid.set(id, laid);
      }
      if (plan.layouts.size >= 16) plan.layouts.clear();
      plan.layouts.set(layout, laid);
    }
    return laid;
  };

  /** The condition's key and state key of a match on the plan's host, made on first use. */
  const keysOf = (plan: Plan, m: Match): { key: AlertKey; sk: string } => {
    plan.made ??= new Map();
    let made = plan.made.get(m);
    if (made === undefined) {
      const key = { ruleId: m.entry.rule.id, hostId: plan.host.id, labels: m.labels };
      made = { key, sk: keyOf(key) };
      if (plan.made.size >= 10_000) plan.made.clear();
      plan.made.set(m, made);
    }
    return made;
  };

  const fire = (
    sk: string,
    key: AlertKey,
    rule: Rule,
    severity: Severity,
    message: string,
    value: number | null,
    threshold: number | null,
    agentId: string | null,
    at: number,
  ) =>
    enqueue(sk, () =>
      deps.sink.fire({
        ...key,
        type: typeOf(rule),
        severity,
        message,
        value,
        threshold,
        agentId,
        at,
      }),
    );
  const clear = (sk: string, key: AlertKey, at: number) =>
    enqueue(sk, () => deps.sink.clear(key, at));

  /** Sets a simple (non-threshold) condition: fires on a change of severity, clears once. */
  const setSimple = (
    key: AlertKey,
    rule: Rule,
    severity: Severity | null,
    text: () => string,
    value: number | null,
    threshold: number | null,
    agentId: string | null,
    at: number,
  ): Promise<void> | undefined => {
    const sk = keyOf(key);
    const prev = simple.get(sk);
    if (severity === null) {
      if (!prev) return undefined;
      simple.delete(sk);
      return clear(sk, key, at);
    }
    if (prev?.severity === severity) return undefined;
    simple.set(sk, { key, severity });
    return fire(sk, key, rule, severity, text(), value, threshold, agentId, at);
  };

  const judge = (plan: Plan, e: IngestEvent): Promise<void> | undefined => {
    const out: Promise<void>[] = [];
    const at = e.collectedAt;
    const { keys, values } = e.samples;
    // Without a condition open on the host, a value that breaches nothing changes nothing.
    const quiet = !perHost.has(plan.host.id);
    const series = (i: number, matches: readonly Match[]) => {
      for (const m of matches) {
        const value = values[i]!;
        const { spec } = m.entry;
        if (quiet && severityOf(spec.comparator, value, spec) === null) continue;
        const { key, sk } = keysOf(plan, m);
        const prev = conditions.get(sk);
        const step = stepThreshold(prev?.state, value, at, spec);
        if (step.state) setCondition(sk, { key, state: step.state, spec });
        else if (prev) dropCondition(sk, prev);
        if (step.action.type === 'fire') {
          const { rule } = m.entry;
          const threshold = step.action.severity === 'critical' ? spec.critical : spec.warning;
          const labels = keys[i]!.slice(rule.metric!.length);
          const message = `${rule.name}: ${rule.metric}${labels} is ${fmt(value)} on ${plan.host.name} (${spec.comparator} ${threshold === null ? '?' : fmt(threshold)})`;
          out.push(
            fire(sk, key, rule, step.action.severity, message, value, threshold, e.agentId, at),
          );
        } else if (step.action.type === 'clear') out.push(clear(sk, key, at));
      }
    };
    if (plan.shape.byMetric.size > 0) {
      if (e.layout !== undefined) {
        // The same layout as before: only the series some rule judges are visited.
        const laid = laidOut(plan, e.layout, keys);
        for (let j = 0; j < laid.index.length; j++) {
          const i = laid.index[j]!;
          if (quiet) {
            const value = values[i]!;
            if (!(value >= laid.above[j]!) && !(value <= laid.below[j]!)) continue;
          }
          series(i, laid.matches[j]!);
        }
      } else for (let i = 0; i < keys.length; i++) series(i, matchesOf(plan.shape, keys[i]!));
    }
    if (e.checks.length > 0) {
      for (const { rule } of plan.shape.other.get('check') ?? []) {
        const flapping = rule.params.flapping === true;
        for (const c of e.checks) {
          const key: AlertKey = {
            ruleId: rule.id,
            hostId: plan.host.id,
            labels: { check: c.name },
          };
          let p: Promise<void> | undefined;
          if (flapping) {
            const fk = `${rule.id}\n${plan.host.id}\n${c.name}`;
            const prev = flaps.get(fk);
            const next = stepFlapping(prev, c.state.state);
            flaps.set(fk, next);
            if (next.flapping === (prev?.flapping ?? false)) continue;
            p = setSimple(
              key,
              rule,
              next.flapping ? 'warning' : null,
              () =>
                `${c.name} on ${plan.host.name} is flapping (${fmt(next.percent)} % state change)`,
              next.percent,
              50,
              e.agentId,
              at,
            );
          } else {
            const sev = checkSeverity(c.state.state, c.state.stateType);
            if (sev === undefined) continue;
            p = setSimple(
              key,
              rule,
              sev,
              () =>
                `${c.name} on ${plan.host.name}: ${c.state.output.split('\n')[0]!.slice(0, 200)}`,
              c.state.state,
              null,
              e.agentId,
              at,
            );
          }
          if (p) out.push(p);
        }
      }
    }
    if (out.length === 0) return undefined;
    return Promise.all(out).then(() => undefined);
  };

  const planOf = (hostId: string): Plan | undefined => {
    const plan = plans.get(hostId);
    return plan && deps.now() - plan.at < ttl ? plan : undefined;
  };

  return {
    /**
     * Seeds the conditions from the sink's open alerts, so that a restart neither opens them
     * again nor forgets to clear them. Call once before the first event.
     */
    async start(): Promise<void> {
      const all = await loadRules();
      const kinds = new Map(all.map((r) => [r.id, r.kind]));
      const at = deps.now();
      for (const open of await deps.sink.open()) {
        const key: AlertKey = { ruleId: open.ruleId, hostId: open.hostId, labels: open.labels };
        const sk = keyOf(key);
        if (kinds.get(open.ruleId) === 'threshold')
          setCondition(sk, {
            key,
            spec: undefined,
            state: {
              phase: 'firing',
              severity: open.severity,
              clearingSince: null,
              lastSeen: at,
              value: NaN,
            },
          });
        else simple.set(sk, { key, severity: open.severity });
      }
    },

    /** The `INGEST_TOPIC` subscriber: synchronous unless the sink must be called. */
    onIngest(e: IngestEvent): Promise<void> | undefined {
      const plan = plans.get(e.hostId);
      if (plan) {
        // A stale plan still judges this push; its replacement is built on the side.
        if (deps.now() - plan.at >= ttl && !refreshing.has(e.hostId)) {
          refreshing.add(e.hostId);
          void buildPlan(e.hostId)
            .catch((err: unknown) => deps.log(err, 'loading the alert rules of a host failed'))
            .finally(() => refreshing.delete(e.hostId));
        }
        return judge(plan, e);
      }
      return buildPlan(e.hostId).then((p) => (p ? judge(p, e) : undefined));
    },

    /** The `AGENT_STATUS_TOPIC` subscriber: the `agent_offline` rules of the agent's host. */
    onAgentStatus(e: AgentStatusEvent): Promise<void> | undefined {
      const action = offlineAction(e.status, e.previousStatus);
      if (action === null || e.hostId === null) return undefined;
      const hostId = e.hostId;
      const run = async () => {
        const plan = planOf(hostId) ?? (await buildPlan(hostId));
        const list = plan?.shape.other.get('agent_offline') ?? [];
        await Promise.all(
          list.map(({ rule }) =>
            setSimple(
              { ruleId: rule.id, hostId, labels: { agent_id: e.agentId } },
              rule,
              action === 'fire' ? 'critical' : null,
              () => `Agent ${e.agentId} of ${plan?.host.name ?? hostId} is offline`,
              null,
              null,
              e.agentId,
              e.at,
            ),
          ),
        );
      };
      return run();
    },

    /**
     * What time alone decides: `keep_firing_for` run out, pending conditions gone stale,
     * conditions of rules deleted or disabled, and the periodic built-ins.
     */
    async tick(): Promise<void> {
      const at = deps.now();
      const all = await loadRules();
      const live = new Map(all.filter((r) => r.enabled).map((r) => [r.id, r]));
      const work: Promise<void>[] = [];
      for (const [sk, c] of conditions) {
        if (!live.has(c.key.ruleId)) {
          dropCondition(sk, c);
          if (c.state.phase === 'firing') work.push(clear(sk, c.key, at));
          continue;
        }
        const step = tickThreshold(
          c.state,
          at,
          { keepFiringForMs: c.spec?.keepFiringForMs ?? 0 },
          STALE_MS,
        );
        if (step.state) c.state = step.state;
        else dropCondition(sk, c);
        if (step.action.type === 'clear') work.push(clear(sk, c.key, at));
      }
      for (const [sk, c] of simple)
        if (!live.has(c.key.ruleId)) {
          simple.delete(sk);
          work.push(clear(sk, c.key, at));
        }
      const periodic = all.filter(
        (r) =>
          r.enabled &&
          (r.kind === 'cert_expiry' || r.kind === 'host_unreachable' || r.kind === 'disk_forecast'),
      );
      if (periodic.length > 0) work.push(this.periodic(at, periodic));
      await Promise.all(work);
    },

    /** The periodic built-ins: certificates, liveness and (every 5 minutes a host) disk forecasts. */
    async periodic(at: number, periodicRules: Rule[]): Promise<void> {
      await judgePeriodic({
        deps,
        at,
        kinds: new Set(periodicRules.map((r) => r.kind)),
        forecastDue: (hostIds) => forecastDue(hostIds, at),
        rulesOf: async (hostId, kind) => {
          const plan = planOf(hostId) ?? (await buildPlan(hostId));
          return plan?.shape.other.get(kind) ?? [];
        },
        setSimple,
      });
    },

    /** Drops every cached plan (after global thresholds or host configuration changed). */
    invalidate(): void {
      plans.clear();
      shapes.clear();
    },

    /** Waits for the sink calls under way (tests, shutdown). */
    async idle(): Promise<void> {
      while (chains.size > 0) await Promise.all([...chains.values()]);
    },

    /** The scheduler's job: `tick` every 15 s. */
    job(): { name: string; everyMs: number; run: () => Promise<void> } {
      return { name: 'alert-evaluation', everyMs: TICK_MS, run: () => this.tick() };
    },
  };
}

/** The rule evaluator. */
export type Evaluator = ReturnType<typeof createEvaluator>;
