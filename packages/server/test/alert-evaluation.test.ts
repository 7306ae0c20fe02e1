import assert from 'node:assert/strict';
import { breather } from '../src/alerts/evaluate/breather.js';
import { describe, test } from 'node:test';
import { percentStateChange, stepFlapping, checkSeverity } from '../src/alerts/evaluate/checks.js';
import { certSeverity } from '../src/alerts/evaluate/certs.js';
import type { EvaluatorDeps } from '../src/alerts/evaluate/deps.js';
import { createEvaluator } from '../src/alerts/evaluate/evaluator.js';
import { diskForecast, predictLinear } from '../src/alerts/evaluate/forecast.js';
import { offlineAction } from '../src/alerts/evaluate/offline.js';
import {
  stepThreshold,
  tickThreshold,
  type ThresholdSpec,
  type ThresholdState,
} from '../src/alerts/evaluate/threshold.js';
import { unreachableSeverity } from '../src/alerts/evaluate/unreachable.js';
import {
  DEFAULT_THRESHOLDS,
  type AlertKey,
  type AlertSignal,
  type AlertSink,
  type Severity,
} from '../src/alerts/model.js';
import {
  compileMatchers,
  effectiveThresholds,
  inScope,
  overridesOf,
  validateRule,
  type Rule,
} from '../src/alerts/rules.js';
import type { IngestEvent } from '../src/events/types.js';
import { parseSeriesKey } from '../src/telemetry/ingest/normalize.js';

const spec = (over: Partial<ThresholdSpec> = {}): ThresholdSpec => ({
  comparator: '>',
  warning: 80,
  critical: 90,
  recovery: 70,
  forMs: 60_000,
  keepFiringForMs: 0,
  ...over,
});

/** Runs a series of `[ms, value]` through the machine; the actions taken, as text. */
function run(series: [number, number][], s: ThresholdSpec) {
  let state: ThresholdState | undefined;
  const actions: string[] = [];
  for (const [at, v] of series) {
    const step = stepThreshold(state, v, at, s);
    state = step.state;
    if (step.action.type === 'fire') actions.push(`${at}:fire:${step.action.severity}`);
    if (step.action.type === 'clear') actions.push(`${at}:clear`);
  }
  return { actions, state };
}

describe('threshold state machine', () => {
  test('a single spike does not fire; a breach that lasts `for` does', () => {
    assert.deepEqual(
      run(
        [
          [0, 50],
          [10_000, 99],
          [20_000, 50],
          [30_000, 50],
        ],
        spec(),
      ).actions,
      [],
    );
    assert.deepEqual(
      run(
        [
          [0, 85],
          [30_000, 85],
          [60_000, 86],
          [90_000, 86],
        ],
        spec(),
      ).actions,
      ['60000:fire:warning'],
    );
  });

  test('severity: critical when the critical threshold is breached, a change fires again', () => {
    const { actions } = run(
      [
        [0, 95],
        [60_000, 95],
        [70_000, 96],
        [80_000, 85],
        [90_000, 95],
      ],
      spec(),
    );
    assert.deepEqual(actions, ['60000:fire:critical', '80000:fire:warning', '90000:fire:critical']);
  });

  test('flapping around the threshold inside the hysteresis band does not resolve', () => {
    const series: [number, number][] = [
      [0, 85],
      [60_000, 85],
    ];
    for (let i = 0; i < 20; i++) series.push([70_000 + i * 10_000, i % 2 ? 79 : 81]);
    const { actions, state } = run(series, spec());
    assert.deepEqual(actions, ['60000:fire:warning']);
    assert.equal(state?.phase, 'firing');
    // Below the recovery value it clears.
    assert.deepEqual(run([...series, [400_000, 69]], spec()).actions.at(-1), '400000:clear');
  });

  test('without a recovery value, a firing condition clears as soon as nothing is breached', () => {
    const { actions } = run(
      [
        [0, 85],
        [60_000, 85],
        [70_000, 79],
      ],
      spec({ recovery: null }),
    );
    assert.deepEqual(actions, ['60000:fire:warning', '70000:clear']);
  });

  test('keep_firing_for keeps it firing after recovery, a new breach resets it', () => {
    const s = spec({ keepFiringForMs: 30_000 });
    const { actions, state } = run(
      [
        [0, 85],
        [60_000, 85],
        [70_000, 60],
        [90_000, 60],
        [95_000, 85],
        [100_000, 60],
        [120_000, 60],
      ],
      s,
    );
    assert.deepEqual(actions, ['60000:fire:warning']);
    assert.equal(state?.phase, 'firing');
    assert.deepEqual(
      run(
        [
          [0, 85],
          [60_000, 85],
          [70_000, 60],
          [100_000, 60],
        ],
        s,
      ).actions,
      ['60000:fire:warning', '100000:clear'],
    );
    // Without data, the tick ends it.
    const firing = run(
      [
        [0, 85],
        [60_000, 85],
        [70_000, 60],
      ],
      s,
    ).state!;
    assert.equal(tickThreshold(firing, 90_000, s, 300_000).action.type, 'none');
    assert.equal(tickThreshold(firing, 100_000, s, 300_000).action.type, 'clear');
  });

  test('a pending condition of a silent series is forgotten by the tick', () => {
    const pending = run([[0, 85]], spec()).state!;
    assert.equal(pending.phase, 'pending');
    assert.equal(tickThreshold(pending, 100_000, spec(), 300_000).state, pending);
    assert.equal(tickThreshold(pending, 300_000, spec(), 300_000).state, undefined);
  });

  test('lower-is-worse comparators', () => {
    const s = spec({ comparator: '<', warning: 20, critical: 10, recovery: null, forMs: 0 });
    assert.deepEqual(
      run(
        [
          [0, 30],
          [1, 15],
          [2, 5],
          [3, 25],
        ],
        s,
      ).actions,
      ['1:fire:warning', '2:fire:critical', '3:clear'],
    );
  });
});

describe('rules', () => {
  const rule = (over: Partial<Rule> = {}): Rule => ({
    id: 'r',
    name: 'r',
    description: null,
    enabled: true,
    kind: 'threshold',
    metric: 'disk_usage_percent',
    matchers: {},
    comparator: '>',
    warning: 80,
    critical: 90,
    for_seconds: 0,
    recovery: null,
    keep_firing_for_seconds: 0,
    scope: {},
    params: {},
    builtin: false,
    created_at: 0,
    updated_at: 0,
    ...over,
  });

  test('label matchers: equality, negation and anchored regexes; absent labels read empty', () => {
    const m = compileMatchers({
      mount: { op: '=~', value: '/(data|srv)' },
      fstype: { op: '!=', value: 'tmpfs' },
    });
    assert.equal(m.test({ mount: '/data' }), true);
    assert.equal(m.test({ mount: '/data2' }), false, 'anchored');
    assert.equal(m.test({ mount: '/srv', fstype: 'tmpfs' }), false);
    assert.equal(compileMatchers({ mount: { op: '=~', value: '.+' } }).test({}), false);
    assert.equal(compileMatchers({ mount: '/' }).test({ mount: '/' }), true);
    assert.equal(
      compileMatchers({ mount: { op: '!~', value: '/boot.*' } }).test({ mount: '/boot/efi' }),
      false,
    );
  });

  test('scope: every non-empty list must name the host', () => {
    const host = {
      id: 'h1',
      name: 'web',
      tags: ['prod', 'web'],
      environment: 'eu',
      templates: ['linux'],
    };
    assert.equal(inScope({}, host), true);
    assert.equal(inScope({ tags: ['db', 'web'] }, host), true);
    assert.equal(inScope({ tags: ['db'] }, host), false);
    assert.equal(inScope({ environments: ['eu'], templates: ['linux'] }, host), true);
    assert.equal(inScope({ environments: ['us'] }, host), false);
    assert.equal(inScope({ host_ids: ['h2'] }, host), false);
  });

  test('overrides: global family, then the host and template vars, rule overrides win', () => {
    const builtin = rule({
      id: 'builtin-disk',
      warning: null,
      critical: null,
      params: { global: 'disk' },
    });
    const g = DEFAULT_THRESHOLDS as unknown as Record<
      string,
      { warning: number; critical: number }
    >;
    assert.deepEqual(effectiveThresholds(builtin, g, {}), {
      enabled: true,
      warning: 80,
      critical: 90,
      recovery: 80,
    });
    const o = overridesOf({
      alerts: { disk: { warning: 95, critical: 'x' }, rules: { 'builtin-disk': { critical: 99 } } },
    });
    assert.deepEqual(effectiveThresholds(builtin, g, o), {
      enabled: true,
      warning: 95,
      critical: 99,
      recovery: 95,
    });
    const off = overridesOf({ alerts: { rules: { r: { enabled: false } } } });
    assert.equal(effectiveThresholds(rule(), g, off).enabled, false);
    assert.deepEqual(overridesOf({ alerts: 'nonsense' }), {});
  });

  test('validation names the field', () => {
    const bad = (over: Partial<Rule>, field: string) =>
      assert.throws(
        () => validateRule(rule(over)),
        (e: Error) => e.message.startsWith(`${field}:`),
      );
    bad({ name: ' ' }, 'name');
    bad({ metric: 'bad metric' }, 'metric');
    bad({ warning: null, critical: null }, 'warning');
    bad({ warning: 95, critical: 90 }, 'critical');
    bad({ matchers: { mount: { op: '=~', value: '(' } } }, 'matchers.mount');
    bad({ matchers: { mount: { op: '~', value: 'x' } as never } }, 'matchers.mount');
    bad({ scope: { hosts: ['x'] } as never }, 'scope.hosts');
    bad({ for_seconds: -1 }, 'for_seconds');
    bad({ kind: 'disk_forecast', metric: null, params: { hours: 0 } }, 'params.hours');
    assert.equal(validateRule(rule({ name: ' ok ' })).name, 'ok');
  });
});

describe('built-in conditions', () => {
  test('check states: hard non-OK fires by state, soft never counts', () => {
    assert.equal(checkSeverity(2, 'hard'), 'critical');
    assert.equal(checkSeverity(1, 'hard'), 'warning');
    assert.equal(checkSeverity(3, 'hard'), 'warning');
    assert.equal(checkSeverity(0, 'hard'), null);
    assert.equal(checkSeverity(2, 'soft'), undefined);
  });

  test("flapping: Nagios' weighted percent state change, above 50 starts, below 25 stops", () => {
    // 21 alternating results: every one of the 20 changes counts, weights 0.75 .. 1.25 sum 20.
    const alternating = Array.from({ length: 21 }, (_, i) => (i % 2 ? 2 : 0));
    assert.ok(Math.abs(percentStateChange(alternating) - 100) < 1e-9);
    // One change, the newest: weight 1.25 of 20.
    assert.ok(Math.abs(percentStateChange([...Array(20).fill(0), 2]) - 6.25) < 1e-9);
    // One change, the oldest: weight 0.75 of 20.
    assert.ok(Math.abs(percentStateChange([0, ...Array(20).fill(2)]) - 3.75) < 1e-9);
    let s = undefined as ReturnType<typeof stepFlapping> | undefined;
    const seen: boolean[] = [];
    for (const v of [...alternating, ...Array(21).fill(0)]) {
      s = stepFlapping(s, v);
      seen.push(s.flapping);
    }
    const start = seen.indexOf(true);
    // Nine changes, the newest nine weights (1.25 down to 1.04): 51.6 %; eight give 46.7 %.
    assert.equal(start, 9);
    const stop = seen.lastIndexOf(true) + 1;
    assert.ok(stop > 21 && stop < 42, `stops once the changes age out (${stop})`);
    assert.equal(s!.flapping, false);
  });

  test('predict_linear against hand-computed numbers', () => {
    // y = 2t + 10 exactly: at t=100, 3600 ahead: 2*3700 + 10.
    const line = [0, 25, 50, 75, 100].map((t) => ({ t, v: 2 * t + 10 }));
    assert.equal(predictLinear(line, 100, 3600), 7410);
    // (0,1) (1,3) (2,2): slope 0.5, mean 2 at x=1; at t=2 the line is 2.5; 2 ahead: 3.5.
    const pts = [
      { t: 0, v: 1 },
      { t: 1, v: 3 },
      { t: 2, v: 2 },
    ];
    assert.ok(Math.abs(predictLinear(pts, 2, 2)! - 3.5) < 1e-12);
    assert.equal(predictLinear([{ t: 1, v: 1 }], 1, 10), undefined);
    assert.equal(
      predictLinear(
        [
          { t: 1, v: 1 },
          { t: 1, v: 2 },
        ],
        1,
        10,
      ),
      undefined,
    );
    // 1 GB/h growth from 50 GB of 100: full in 50 h, not within 24 h, within 72 h.
    const hourly = Array.from({ length: 7 }, (_, i) => ({ t: i * 3600, v: (44 + i) * 1e9 }));
    assert.equal(diskForecast(hourly, 100e9, 6 * 3600, 24)!.full, false);
    assert.equal(diskForecast(hourly, 100e9, 6 * 3600, 72)!.full, true);
    assert.ok(Math.abs(diskForecast(hourly, 100e9, 6 * 3600, 24)!.predictedBytes - 74e9) < 1);
  });

  test('offline, certificates, liveness', () => {
    assert.equal(offlineAction('offline', 'online'), 'fire');
    assert.equal(offlineAction('offline', null), null, 'never reported: not an outage');
    assert.equal(offlineAction('offline', 'pending'), null);
    assert.equal(offlineAction('online', 'offline'), 'clear');
    assert.equal(offlineAction('pending', null), null);
    const day = 86_400_000;
    assert.equal(certSeverity(20 * day, 0, { warning: 14, critical: 3 }), null);
    assert.equal(certSeverity(10 * day, 0, { warning: 14, critical: 3 }), 'warning');
    assert.equal(certSeverity(2 * day, 0, { warning: 14, critical: 3 }), 'critical');
    assert.equal(certSeverity(-day, 0, { warning: 14, critical: 3 }), 'critical');
    assert.equal(
      unreachableSeverity({ state: 'unreachable', consecutive_failures: 1 }),
      'critical',
    );
    assert.equal(unreachableSeverity({ state: 'unreachable', consecutive_failures: 1 }, 3), null);
    assert.equal(unreachableSeverity({ state: 'reachable', consecutive_failures: 0 }), null);
  });
});

/** A sink that records what it is told, and keeps open alerts as the lifecycle would. */
function recordingSink(open: (AlertKey & { severity: Severity })[] = []) {
  const calls: string[] = [];
  /** The same calls with the host they name, and the message of each fire. */
  const hostCalls: string[] = [];
  const sink: AlertSink = {
    async fire(s: AlertSignal) {
      calls.push(`fire ${s.ruleId} ${JSON.stringify(s.labels)} ${s.severity}`);
      hostCalls.push(`${s.hostId} fire ${s.ruleId} ${JSON.stringify(s.labels)}: ${s.message}`);
    },
    async clear(k: AlertKey) {
      calls.push(`clear ${k.ruleId} ${JSON.stringify(k.labels)}`);
      hostCalls.push(`${k.hostId} clear ${k.ruleId} ${JSON.stringify(k.labels)}`);
    },
    async open() {
      return open;
    },
  };
  return { sink, calls, hostCalls };
}

describe('evaluator', () => {
  const base: Omit<Rule, 'id' | 'name'> = {
    description: null,
    enabled: true,
    kind: 'threshold',
    metric: 'disk_usage_percent',
    matchers: { mount: { op: '=~', value: '.+' } },
    comparator: '>',
    warning: 80,
    critical: 90,
    for_seconds: 60,
    recovery: 70,
    keep_firing_for_seconds: 0,
    scope: {},
    params: {},
    builtin: false,
    created_at: 0,
    updated_at: 0,
  };
  const setup = (
    rules: Rule[],
    open: (AlertKey & { severity: Severity })[] = [],
    more: Partial<EvaluatorDeps> = {},
  ) => {
    let clock = 0;
    const rec = recordingSink(open);
    let factsCalls = 0;
    const deps: EvaluatorDeps = {
      rules: { all: async () => rules, onChange: () => undefined },
      sink: rec.sink,
      thresholds: { get: async () => DEFAULT_THRESHOLDS },
      hosts: {
        facts: async (id) => {
          factsCalls++;
          return {
            id,
            name: id,
            tags: id === 'prod' ? ['prod'] : [],
            environment: null,
            templates: [],
          };
        },
        all: async () => [],
      },
      overrides: async (id) =>
        id === 'quiet' ? overridesOf({ alerts: { rules: { disk: { enabled: false } } } }) : {},
      parseKey: parseSeriesKey,
      liveness: async () => new Map(),
      certificates: async () => [],
      disks: async () => [],
      now: () => clock,
      log: (err) => {
        throw err;
      },
      ...more,
    };
    const ev = createEvaluator(deps);
    const push = async (
      hostId: string,
      at: number,
      samples: Record<string, number>,
      checks: IngestEvent['checks'] = [],
      layout?: number,
    ) => {
      clock = at;
      const keys = Object.keys(samples);
      await ev.onIngest({
        agentId: 'a',
        hostId,
        collectedAt: at,
        doc: {} as IngestEvent['doc'],
        clockSkewSeconds: null,
        samples: { keys, values: Float64Array.from(keys.map((k) => samples[k]!)) },
        ...(layout !== undefined ? { layout } : {}),
        checks,
      });
    };
    return {
      ev,
      push,
      calls: rec.calls,
      hostCalls: rec.hostCalls,
      factsCalls: () => factsCalls,
      setClock: (t: number) => (clock = t),
    };
  };

  test('fires after `for`, per series of the matching labels, and clears past recovery', async () => {
    const { push, calls } = setup([{ ...base, id: 'disk', name: 'Disk' }]);
    const s = (root: number, data: number) => ({
      'disk_usage_percent{mount="/"}': root,
      'disk_usage_percent{mount="/data"}': data,
      disk_usage_percent: Math.max(root, data),
    });
    await push('h', 0, s(50, 95));
    await push('h', 30_000, s(50, 95));
    assert.deepEqual(calls, []);
    await push('h', 60_000, s(50, 95));
    await push('h', 70_000, s(50, 95));
    assert.deepEqual(calls, ['fire disk {"mount":"/data"} critical']);
    await push('h', 80_000, s(50, 75));
    assert.equal(calls.length, 1, '75 breaches nothing but is inside the hysteresis band');
    await push('h', 90_000, s(50, 65));
    assert.deepEqual(calls.slice(1), ['clear disk {"mount":"/data"}']);
  });

  test('pushes of a known key layout are judged by position, as pushes without one', async () => {
    const { push, calls } = setup([
      { ...base, id: 'disk', name: 'Disk', for_seconds: 0 },
      {
        ...base,
        id: 'idle',
        name: 'Idle',
        metric: 'load1',
        matchers: {},
        comparator: '<',
        warning: 0.5,
        critical: 0.2,
        recovery: null,
        for_seconds: 0,
      },
    ]);
    const two = (root: number, data: number, load = 1) => ({
      load1: load,
      'disk_usage_percent{mount="/"}': root,
      'disk_usage_percent{mount="/data"}': data,
    });
    await push('h', 0, two(50, 50), [], 7);
    await push('h', 1000, two(50, 85), [], 7);
    assert.deepEqual(calls, ['fire disk {"mount":"/data"} warning']);
    // A quiet host's value below a `<` rule's threshold is judged too.
    const { push: pushQuiet, calls: quietCalls } = setup([
      { ...base, id: 'disk', name: 'Disk', for_seconds: 0 },
      {
        ...base,
        id: 'idle',
        name: 'Idle',
        metric: 'load1',
        matchers: {},
        comparator: '<',
        warning: 0.5,
        critical: 0.2,
        recovery: null,
        for_seconds: 0,
      },
    ]);
    await pushQuiet('q', 0, two(50, 50), [], 3);
    await pushQuiet('q', 1000, two(50, 50, 0.1), [], 3);
    await pushQuiet('q', 2000, two(50, 85, 1), [], 3);
    assert.deepEqual(quietCalls, [
      'fire idle {} critical',
      'clear idle {}',
      'fire disk {"mount":"/data"} warning',
    ]);
    // Another layout of the host: its own positions, the mounts in another order.
    const swapped = (data: number, root: number) => ({
      'disk_usage_percent{mount="/data"}': data,
      'disk_usage_percent{mount="/"}': root,
    });
    await push('h', 2000, swapped(85, 95), [], 8);
    assert.deepEqual(calls.slice(1), ['fire disk {"mount":"/"} critical']);
    await push('h', 3000, two(50, 50), [], 7);
    await push('h', 4000, swapped(50, 50), [], 8);
    assert.deepEqual(calls.slice(2).sort(), [
      'clear disk {"mount":"/"}',
      'clear disk {"mount":"/data"}',
    ]);
  });

  test("hosts judged by the same rules share them, but never each other's conditions", async () => {
    const { push, hostCalls } = setup([{ ...base, id: 'disk', name: 'Disk', for_seconds: 0 }]);
    const s = (root: number, data: number) => ({
      load1: 1,
      'disk_usage_percent{mount="/"}': root,
      'disk_usage_percent{mount="/data"}': data,
    });
    // Each host has its own layout numbers; 'b' has the same keys as 'a', 'c' another order.
    await push('a', 0, s(50, 50), [], 1);
    await push('b', 0, s(50, 50), [], 2);
    await push('c', 0, { 'disk_usage_percent{mount="/data"}': 50, load1: 1 }, [], 3);
    await push('b', 1000, s(50, 95), [], 2);
    assert.deepEqual(hostCalls, [
      'b fire disk {"mount":"/data"}: Disk: disk_usage_percent{mount="/data"} is 95 on b (> 90)',
    ]);
    await push('a', 2000, s(85, 50), [], 1);
    await push('c', 2000, { 'disk_usage_percent{mount="/data"}': 95, load1: 1 }, [], 3);
    await push('b', 3000, s(50, 50), [], 2);
    assert.deepEqual(hostCalls.slice(1), [
      'a fire disk {"mount":"/"}: Disk: disk_usage_percent{mount="/"} is 85 on a (> 80)',
      'c fire disk {"mount":"/data"}: Disk: disk_usage_percent{mount="/data"} is 95 on c (> 90)',
      'b clear disk {"mount":"/data"}',
    ]);
    // 'a' still has its condition: a push below recovery clears it, and only it.
    await push('a', 4000, s(50, 50), [], 1);
    assert.deepEqual(hostCalls.slice(4), ['a clear disk {"mount":"/"}']);
  });

  test('scope and host overrides select the rules; a host is looked up once, not per push', async () => {
    const { push, calls, factsCalls } = setup([
      { ...base, id: 'disk', name: 'Disk', for_seconds: 0 },
      { ...base, id: 'prod-only', name: 'Prod', for_seconds: 0, scope: { tags: ['prod'] } },
    ]);
    for (const h of ['dev', 'prod', 'quiet'])
      await push(h, 0, { 'disk_usage_percent{mount="/"}': 85 });
    assert.deepEqual(calls.sort(), [
      'fire disk {"mount":"/"} warning',
      'fire disk {"mount":"/"} warning',
      'fire prod-only {"mount":"/"} warning',
    ]);
    for (let i = 1; i < 10; i++)
      await push('dev', i * 1000, { 'disk_usage_percent{mount="/"}': 85 });
    assert.equal(factsCalls(), 3);
  });

  test('checks: hard problems fire and clear, soft ones never fire', async () => {
    const { push, calls } = setup([
      {
        ...base,
        id: 'chk',
        name: 'Check',
        kind: 'check',
        metric: null,
        comparator: null,
        warning: null,
        critical: null,
      },
    ]);
    const st = (state: number, stateType: 'soft' | 'hard') => ({
      state,
      stateType,
      attempt: 1,
      hardState: 0,
      lastCheck: 0,
      lastStateChange: 0,
      lastHardChange: 0,
      output: 'out',
      perfdata: '',
    });
    await push('h', 0, {}, [{ name: 'c', state: st(2, 'soft'), changed: true }]);
    assert.deepEqual(calls, []);
    await push('h', 1, {}, [{ name: 'c', state: st(2, 'hard'), changed: true }]);
    await push('h', 2, {}, [{ name: 'c', state: st(2, 'hard'), changed: false }]);
    await push('h', 3, {}, [{ name: 'c', state: st(1, 'hard'), changed: true }]);
    await push('h', 4, {}, [{ name: 'c', state: st(0, 'hard'), changed: true }]);
    assert.deepEqual(calls, [
      'fire chk {"check":"c"} critical',
      'fire chk {"check":"c"} warning',
      'clear chk {"check":"c"}',
    ]);
  });

  test('flapping: a check changing state too often fires once, and clears once it settles', async () => {
    const { push, calls } = setup([
      {
        ...base,
        id: 'flap',
        name: 'Flapping',
        kind: 'check',
        metric: null,
        comparator: null,
        warning: null,
        critical: null,
        params: { flapping: true },
      },
    ]);
    const st = (state: number) => ({
      state,
      stateType: 'hard' as const,
      attempt: 1,
      hardState: state,
      lastCheck: 0,
      lastStateChange: 0,
      lastHardChange: 0,
      output: '',
      perfdata: '',
    });
    const results = [
      ...Array.from({ length: 21 }, (_, i) => (i % 2 ? 2 : 0)),
      ...Array(21).fill(0),
    ];
    const at: number[] = [];
    for (let i = 0; i < results.length; i++) {
      const before = calls.length;
      await push('h', i, {}, [{ name: 'c', state: st(results[i]!), changed: true }]);
      if (calls.length > before) at.push(i);
    }
    assert.deepEqual(calls, ['fire flap {"check":"c"} warning', 'clear flap {"check":"c"}']);
    assert.equal(at[0], 9, 'the tenth result: nine changes, 51.5 %');
  });

  test('seeded from the open alerts: no second fire, and a recovery clears', async () => {
    const { ev, push, calls } = setup(
      [{ ...base, id: 'disk', name: 'Disk' }],
      [{ ruleId: 'disk', hostId: 'h', labels: { mount: '/' }, severity: 'critical' }],
    );
    await ev.start();
    await push('h', 0, { 'disk_usage_percent{mount="/"}': 95 });
    await push('h', 10_000, { 'disk_usage_percent{mount="/"}': 50 });
    assert.deepEqual(calls, ['clear disk {"mount":"/"}']);
  });

  test('the tick clears the conditions of a rule that is gone', async () => {
    const rules = [{ ...base, id: 'disk', name: 'Disk', for_seconds: 0 }];
    const { ev, push, calls } = setup(rules);
    await push('h', 0, { 'disk_usage_percent{mount="/"}': 95 });
    rules.pop();
    await ev.tick();
    assert.deepEqual(calls, ['fire disk {"mount":"/"} critical', 'clear disk {"mount":"/"}']);
  });

  test("agent status: offline fires, online clears, on the rule of the agent's host", async () => {
    const rule: Rule = {
      ...base,
      id: 'off',
      name: 'Offline',
      kind: 'agent_offline',
      metric: null,
      comparator: null,
      warning: null,
      critical: null,
    };
    const { ev, calls } = setup([rule]);
    let previous: 'online' | 'offline' | 'pending' | null = null;
    const status = async (s: 'online' | 'offline' | 'pending') => {
      await ev.onAgentStatus({
        agentId: 'a1',
        hostId: 'h',
        status: s,
        previousStatus: previous,
        at: 1,
      });
      previous = s;
    };
    await status('pending');
    await status('offline');
    assert.deepEqual(calls, [], 'an agent that never reported is not an outage');
    await status('online');
    await status('offline');
    await status('offline');
    await status('online');
    assert.deepEqual(calls, ['fire off {"agent_id":"a1"} critical', 'clear off {"agent_id":"a1"}']);
  });

  test('the tick runs the periodic built-ins: liveness, certificates, disk forecasts', async () => {
    const day = 86_400_000;
    const none = { comparator: null, warning: null, critical: null, metric: null } as const;
    const rules: Rule[] = [
      { ...base, ...none, id: 'unreach', name: 'U', kind: 'host_unreachable' },
      { ...base, ...none, id: 'cert', name: 'C', kind: 'cert_expiry', warning: 14, critical: 3 },
      { ...base, ...none, id: 'fc', name: 'F', kind: 'disk_forecast', params: { hours: 24 } },
    ];
    let reachable = false;
    const t0 = 100 * day;
    const { ev, calls, setClock } = setup(rules, [], {
      hosts: {
        facts: async (id) => ({ id, name: id, tags: [], environment: null, templates: [] }),
        all: async () => [{ id: 'h', name: 'h', tags: [], environment: null, templates: [] }],
      },
      liveness: async () =>
        new Map([
          [
            'h',
            reachable
              ? { state: 'reachable', consecutive_failures: 0 }
              : { state: 'unreachable', consecutive_failures: 2 },
          ],
        ]),
      certificates: async () => [{ agentId: 'a1', hostId: 'h', notAfter: t0 + 10 * day }],
      // 2 GB an hour on 100 GB, 60 GB used now: full in 20 h.
      disks: async (_h, _from, to) => [
        {
          mount: '/',
          totalBytes: 100e9,
          used: [0, 1, 2, 3].map((i) => ({ t: to / 1000 - (3 - i) * 3600, v: (54 + 2 * i) * 1e9 })),
        },
      ],
    });
    setClock(t0);
    await ev.tick();
    assert.deepEqual(calls.sort(), [
      'fire cert {"agent_id":"a1"} warning',
      'fire fc {"mount":"/"} warning',
      'fire unreach {} critical',
    ]);
    reachable = true;
    setClock(t0 + 8 * day);
    await ev.tick();
    assert.deepEqual(calls.slice(3).sort(), [
      'clear unreach {}',
      'fire cert {"agent_id":"a1"} critical',
    ]);
  });
  test("a fleet's disk forecasts spread over the period: each host once, a share per tick", async () => {
    const none = { comparator: null, warning: null, critical: null, metric: null } as const;
    const rules: Rule[] = [
      { ...base, ...none, id: 'fc', name: 'F', kind: 'disk_forecast', params: { hours: 24 } },
    ];
    const fleet = Array.from({ length: 400 }, (_, i) => `h${i}`);
    const asked: [string, number][] = [];
    const { ev, setClock } = setup(rules, [], {
      hosts: {
        facts: async (id) => ({ id, name: id, tags: [], environment: null, templates: [] }),
        all: async () =>
          fleet.map((id) => ({ id, name: id, tags: [], environment: null, templates: [] })),
      },
      disks: async (hostId, _from, to) => {
        asked.push([hostId, to]);
        return [];
      },
    });
    const tickAt = async (t: number) => {
      setClock(t);
      await ev.tick();
    };
    await tickAt(60_000);
    assert.equal(asked.length, 0, 'none in the first period after the start');
    // Ticks every 15 s from five minutes on: 50 hosts a tick at most (the minimum batch; the
    // fleet's share is 20), so the 400 are done in eight ticks, each once.
    const start = 300_000;
    for (let k = 0; k < 20; k++) await tickAt(start + k * 15_000);
    const perTick = new Map<number, number>();
    for (const [, t] of asked) perTick.set(t, (perTick.get(t) ?? 0) + 1);
    assert.ok(Math.max(...perTick.values()) <= 50, 'at most a batch a tick');
    assert.deepEqual(
      asked.map(([id]) => id).sort(),
      [...fleet].sort(),
      'every host once in the period',
    );
    // The next period: again each host once, five minutes after its last.
    asked.length = 0;
    for (let k = 20; k < 40; k++) await tickAt(start + k * 15_000);
    assert.equal(new Set(asked.map(([id]) => id)).size, 400);
    assert.equal(asked.length, 400);
  });
});

test('loops over the fleet give the event loop a turn while they run', async () => {
  const pause = breather(5);
  let ticked = false;
  setTimeout(() => (ticked = true), 0);
  let sawTick = false;
  let yields = 0;
  // At least 60 ms and 20 pauses that yielded (a busy machine may hold the process up for longer
  // than the loop's time), at most 5 s.
  const start = performance.now();
  while ((performance.now() < start + 60 || yields < 20) && performance.now() < start + 5000) {
    // Work that never reaches the event loop on its own, as synchronous queries do.
    await Promise.resolve();
    const turn = pause();
    if (turn) {
      yields += 1;
      await turn;
    }
    if (ticked) sawTick = true;
  }
  assert.ok(sawTick, 'a timer ran while the loop was going');
});
