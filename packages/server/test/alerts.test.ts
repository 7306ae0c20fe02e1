import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createAlertLifecycle } from '../src/alerts/lifecycle.js';
import { dedupKey, type AlertSignal } from '../src/alerts/model.js';
import type { AlertStores } from '../src/alerts/records.js';
import { createAlertStore } from '../src/alerts/store.js';
import { createAuditStore } from '../src/audit/store.js';
import type { AlertEvent } from '../src/events/types.js';
import { createJobStore } from '../src/jobs/store.js';
import { createCursorCodec } from '../src/secrets/cursors.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { alertApi } from '../../../test/support/alerts.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

// The alert lifecycle: opening and updating by the evaluator's signals, clearing, people's
// actions and the invalid ones, dedup under concurrent fires, and maintenance suppression.

for (const kind of await databaseKinds()) {
  describe(`alert lifecycle on ${kind.name}`, () => {
    let h: Harness;
    let token: string;
    let clock = Date.now();

    const { call, fails, newHost } = alertApi(
      () => h,
      () => token,
      'alerting',
    );

    const signal = (hostId: string, more: Partial<AlertSignal> = {}): AlertSignal => ({
      ruleId: 'cpu-high',
      hostId,
      labels: { cpu: 'total' },
      type: 'cpu',
      severity: 'warning',
      message: 'CPU is high',
      value: 85,
      threshold: 80,
      agentId: null,
      at: clock,
      ...more,
    });

    const alertOf = async (s: AlertSignal) => {
      const row = await h.vigil.db.kysely
        .selectFrom('alerts')
        .selectAll()
        .where('dedup_key', '=', dedupKey(s))
        .orderBy('started_at', 'desc')
        .execute();
      return row;
    };

    /** The events of an alert's notify jobs, in the order of their transitions. */
    const jobsOf = async (alertId: string) => {
      const seq = new Map(
        (
          await h.vigil.db.kysely
            .selectFrom('alert_transitions')
            .select(['id', 'seq'])
            .where('alert_id', '=', alertId)
            .execute()
        ).map((t) => [t.id, Number(t.seq)]),
      );
      return (
        await h.vigil.db.kysely
          .selectFrom('jobs')
          .select('payload')
          .where('kind', '=', 'alert.notify')
          .execute()
      )
        .map(
          (r) =>
            JSON.parse(r.payload) as { alert_id: string; transition_id: string; event: string },
        )
        .filter((p) => p.alert_id === alertId)
        .sort((a, b) => seq.get(a.transition_id)! - seq.get(b.transition_id)!)
        .map((p) => p.event);
    };

    const detail = async (id: string) => {
      const res = await call('GET', `/api/v1/alerts/${id}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json() as {
        state: string;
        severity: string;
        acknowledged: boolean;
        suppressed: boolean;
        transitions: {
          from: string | null;
          to: string;
          severity: string;
          reason: string | null;
          actor: { type: string; label: string | null };
        }[];
      };
    };

    /** Moves the clock on; the access token is renewed, since it may have expired. */
    const advance = async (ms: number) => {
      clock += ms;
      token = await h.login();
    };

    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      token = await h.login();
    });
    after(() => h.close());

    test('fire opens one alert, updates it, records severity changes, clear resolves it', async () => {
      const host = await newHost();
      const s = signal(host);
      await h.vigil.alerts.sink.fire(s);
      let rows = await alertOf(s);
      assert.equal(rows.length, 1);
      const id = rows[0]!.id;
      assert.equal(rows[0]!.state, 'active');
      await h.vigil.alerts.sink.fire({ ...s, value: 88, message: 'CPU is higher' });
      rows = await alertOf(s);
      assert.equal(rows.length, 1);
      assert.equal(Number(rows[0]!.value), 88);
      assert.equal(rows[0]!.message, 'CPU is higher');
      await h.vigil.alerts.sink.fire({ ...s, severity: 'critical', value: 97 });
      await h.vigil.alerts.sink.fire({ ...s, severity: 'warning', value: 85 });
      let d = await detail(id);
      assert.deepEqual(
        d.transitions.map((t) => [t.from, t.to, t.severity]),
        [
          [null, 'active', 'warning'],
          ['active', 'active', 'critical'],
          ['active', 'active', 'warning'],
        ],
      );
      assert.equal(d.transitions[0]!.actor.type, 'system');
      assert.deepEqual(await jobsOf(id), ['opened', 'escalated', 'deescalated']);
      assert.deepEqual(
        await h.vigil.alerts.sink.open().then((o) => o.filter((k) => k.hostId === host)),
        [{ ruleId: 'cpu-high', hostId: host, labels: { cpu: 'total' }, severity: 'warning' }],
      );

      await h.vigil.alerts.sink.clear(s, clock);
      d = await detail(id);
      assert.equal(d.state, 'resolved');
      assert.equal(d.transitions.at(-1)!.reason, 'condition cleared');
      assert.deepEqual((await jobsOf(id)).at(-1), 'resolved');
      // Clearing again does nothing; firing again opens a new alert.
      await h.vigil.alerts.sink.clear(s, clock);
      assert.equal((await detail(id)).transitions.length, 4);
      await h.vigil.alerts.sink.fire(s);
      rows = await alertOf(s);
      assert.equal(rows.length, 2);
      assert.equal(rows.filter((r) => r.state === 'active').length, 1);
    });

    test('every action, and every invalid one (409 transition.invalid)', async () => {
      const host = await newHost();
      const open = async (ruleId: string) => {
        const s = signal(host, { ruleId });
        await h.vigil.alerts.sink.fire(s);
        return (await alertOf(s))[0]!.id;
      };
      const until = new Date(clock + 3_600_000).toISOString();

      // active → acknowledged → silenced → acknowledged → resolved.
      const a = await open('r-ack');
      let res = await call('POST', `/api/v1/alerts/${a}:acknowledge`, { reason: 'looking' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().state, 'acknowledged');
      assert.equal(res.json().acknowledged, true);
      await fails(await call('POST', `/api/v1/alerts/${a}:acknowledge`), 409, 'transition.invalid');
      res = await call('POST', `/api/v1/alerts/${a}:silence`, { until, reason: 'patching' });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().state, 'silenced');
      assert.equal(res.json().silenced_until, until);
      await fails(
        await call('POST', `/api/v1/alerts/${a}:silence`, { until }),
        409,
        'transition.invalid',
      );
      res = await call('POST', `/api/v1/alerts/${a}/acknowledge`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().state, 'acknowledged');
      res = await call('POST', `/api/v1/alerts/${a}:resolve`, { reason: 'fixed' });
      assert.equal(res.json().state, 'resolved');
      assert.notEqual(res.json().resolved_at, null);
      for (const action of ['acknowledge', 'resolve', 'dismiss'])
        await fails(await call('POST', `/api/v1/alerts/${a}:${action}`), 409, 'transition.invalid');
      const r = await call('POST', `/api/v1/alerts/${a}:silence`, { until });
      await fails(r, 409, 'transition.invalid');
      assert.match(r.json().error.human_message as string, /resolved/);
      const d = await detail(a);
      assert.deepEqual(
        d.transitions.map((t) => [t.from, t.to]),
        [
          [null, 'active'],
          ['active', 'acknowledged'],
          ['acknowledged', 'silenced'],
          ['silenced', 'acknowledged'],
          ['acknowledged', 'resolved'],
        ],
      );
      assert.equal(d.transitions[1]!.actor.type, 'user');
      assert.equal(d.transitions[1]!.actor.label, 'admin');
      assert.equal(d.transitions[1]!.reason, 'looking');
      assert.deepEqual(await jobsOf(a), [
        'opened',
        'acknowledged',
        'silenced',
        'acknowledged',
        'resolved',
      ]);
      const audit = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .select('action')
        .where('resource_id', '=', a)
        .execute();
      assert.deepEqual(audit.map((e) => e.action).sort(), [
        'alert.acknowledge',
        'alert.acknowledge',
        'alert.resolve',
        'alert.silence',
      ]);

      // active → silenced → (silence expires) → active → dismissed; dismissed is final.
      const b = await open('r-dismiss');
      res = await call('POST', `/api/v1/alerts/${b}:silence`, { until });
      assert.equal(res.json().state, 'silenced');
      await fails(
        await call('POST', `/api/v1/alerts/${b}:silence`, { until }),
        409,
        'transition.invalid',
      );
      await advance(3_600_001);
      await h.vigil.alerts.lifecycle.expireSilences();
      assert.equal((await detail(b)).state, 'active');
      res = await call('POST', `/api/v1/alerts/${b}:dismiss`, { reason: 'noise' });
      assert.equal(res.json().state, 'dismissed');
      for (const action of ['acknowledge', 'resolve', 'dismiss'])
        await fails(await call('POST', `/api/v1/alerts/${b}:${action}`), 409, 'transition.invalid');

      // acknowledged → silenced → (expiry) → acknowledged again.
      const c = await open('r-ack-silence');
      await call('POST', `/api/v1/alerts/${c}:acknowledge`);
      await call('POST', `/api/v1/alerts/${c}:silence`, {
        until: new Date(clock + 60_000).toISOString(),
      });
      await advance(60_001);
      await h.vigil.alerts.lifecycle.expireSilences();
      assert.equal((await detail(c)).state, 'acknowledged');
      assert.deepEqual((await jobsOf(c)).slice(-2), ['silenced', 'unsilenced']);

      // Bad silences and unknown alerts.
      const e = await open('r-bad');
      await fails(await call('POST', `/api/v1/alerts/${e}:silence`, {}), 400);
      await fails(
        await call('POST', `/api/v1/alerts/${e}:silence`, {
          until: new Date(clock - 1000).toISOString(),
        }),
        400,
        'validation_failed',
      );
      await fails(
        await call('POST', `/api/v1/alerts/${e}:silence`, {
          until: new Date(clock + 400 * 86_400_000).toISOString(),
        }),
        400,
        'validation_failed',
      );
      await fails(await call('POST', `/api/v1/alerts/${e}:silence`, { until: 'tomorrow' }), 400);
      await fails(await call('POST', `/api/v1/alerts/${e}:acknowledge`, { bogus: 1 }), 400);
      assert.equal((await detail(e)).state, 'active');
      await fails(await call('GET', '/api/v1/alerts/nope'), 404, 'alert.not_found');
      await fails(await call('POST', '/api/v1/alerts/nope:acknowledge'), 404, 'alert.not_found');
    });

    test('concurrent fires of one condition give one alert', async () => {
      const host = await newHost();
      const s = signal(host, { ruleId: 'race' });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          h.vigil.alerts.sink.fire({
            ...s,
            value: 80 + i,
            severity: i % 3 === 0 ? 'critical' : 'warning',
          }),
        ),
      );
      const rows = await alertOf(s);
      assert.equal(rows.length, 1);
      const d = await detail(rows[0]!.id);
      assert.equal(d.transitions.filter((t) => t.from === null).length, 1);
      // Each recorded severity change is a real change from the one before.
      for (let i = 1; i < d.transitions.length; i++)
        assert.notEqual(d.transitions[i]!.severity, d.transitions[i - 1]!.severity);
      assert.equal(d.severity, d.transitions.at(-1)!.severity);
      // A second round after it exists: still one.
      await Promise.all(Array.from({ length: 20 }, () => h.vigil.alerts.sink.fire(s)));
      assert.equal((await alertOf(s)).length, 1);
    });

    test('a storm of fires and clears shares units of work; a failing call fails alone', async () => {
      const db = h.vigil.db.kysely;
      let units = 0;
      /** The host whose alert cannot be written (a failing store). */
      let broken: string | undefined = undefined;
      const events: AlertEvent[] = [];
      const storm = createAlertLifecycle({
        store: createAlertStore(db),
        transact: (fn: (s: AlertStores) => Promise<unknown>) => {
          units += 1;
          return db.transaction().execute((trx) => {
            const alerts = createAlertStore(trx);
            return fn({
              alerts: {
                ...alerts,
                insertOpen: (row) =>
                  row.host_id === broken
                    ? Promise.reject(new Error('disk full'))
                    : alerts.insertOpen(row),
              },
              audit: createAuditStore(trx),
              jobs: createJobStore(trx, () => clock),
            });
          });
        },
        publish: (e) => events.push(e),
        cursors: createCursorCodec(randomBytes(32)),
        now: () => clock,
      } as Parameters<typeof createAlertLifecycle>[0]);
      const hosts: string[] = [];
      for (let i = 0; i < 60; i++) hosts.push(await newHost());
      const signals = hosts.map((host) => signal(host, { ruleId: 'storm' }));

      await Promise.all(signals.map((s) => storm.sink.fire(s)));
      // 60 calls of one turn: a unit of work of 50, then one of 10.
      assert.equal(units, 2);
      for (const s of signals) {
        const rows = await alertOf(s);
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.state, 'active');
        assert.deepEqual(await jobsOf(rows[0]!.id), ['opened']);
      }
      assert.equal(events.length, 60);
      assert.ok(events.every((e) => e.transition.to === 'active' && e.alert.host_name !== null));

      // Clears and fires of one condition in one turn keep their order.
      units = 0;
      await Promise.all([
        ...signals.map((s) => storm.sink.clear(s, clock)),
        storm.sink.fire({ ...signals[0]!, value: 99 }),
      ]);
      assert.equal(units, 2);
      for (const s of signals.slice(1))
        assert.deepEqual(
          (await alertOf(s)).map((r) => r.state),
          ['resolved'],
        );
      // Its alert resolved, then a new one opened (of one start time: in no particular order).
      const first = await alertOf(signals[0]!);
      assert.deepEqual(first.map((r) => r.state).sort(), ['active', 'resolved']);

      // One call that cannot be written fails alone; the others of its unit are recorded.
      broken = hosts[5];
      const again = hosts.slice(0, 10).map((host) => signal(host, { ruleId: 'storm-2' }));
      const settled = await Promise.allSettled(again.map((s) => storm.sink.fire(s)));
      assert.deepEqual(
        settled.map((r) => r.status),
        again.map((s) => (s.hostId === broken ? 'rejected' : 'fulfilled')),
      );
      for (const s of again)
        assert.equal((await alertOf(s)).length, s.hostId === broken ? 0 : 1, s.hostId);
    });

    test('silences: a later start, alerts opened under one, and its end', async () => {
      const host = await newHost();
      const s = signal(host, { ruleId: 'planned' });
      await h.vigil.alerts.sink.fire(s);
      const id = (await alertOf(s))[0]!.id;
      let res = await call('POST', '/api/v1/alerts/silences', {
        matchers: { rule_id: 'planned', labels: { cpu: 'total' } },
        reason: 'planned work',
        starts_at: new Date(clock + 60_000).toISOString(),
        ends_at: new Date(clock + 120_000).toISOString(),
      });
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(res.json().active, false);
      assert.equal((await detail(id)).state, 'active');
      // Once it starts, the sweep silences what it matches, once: acknowledging takes it out.
      await advance(60_000);
      await h.vigil.alerts.lifecycle.expireSilences();
      let d = await detail(id);
      assert.equal(d.state, 'silenced');
      assert.equal(d.suppressed, true);
      assert.equal(d.transitions.at(-1)!.reason, 'silence: planned work');
      const other = signal(host, { ruleId: 'planned', labels: { cpu: 'total', extra: 'x' } });
      await h.vigil.alerts.sink.fire(other);
      const otherId = (await alertOf(other))[0]!.id;
      assert.equal((await detail(otherId)).state, 'silenced');
      assert.deepEqual(await jobsOf(otherId), []);
      res = await call('POST', `/api/v1/alerts/${otherId}:acknowledge`);
      assert.equal(res.json().state, 'acknowledged');
      await h.vigil.alerts.lifecycle.expireSilences();
      assert.equal((await detail(otherId)).state, 'acknowledged');
      // Its end returns the alert it silenced; it notifies again from there.
      await advance(60_001);
      await h.vigil.alerts.lifecycle.expireSilences();
      d = await detail(id);
      assert.equal(d.state, 'active');
      assert.equal(d.suppressed, false);
      assert.deepEqual((await jobsOf(id)).at(-1), 'unsilenced');
      await h.vigil.alerts.sink.fire({ ...s, severity: 'critical' });
      assert.deepEqual((await jobsOf(id)).at(-1), 'escalated');
    });

    test('a host in maintenance records its alerts, suppressed, and notifies no one', async () => {
      const host = await newHost();
      const res = await call('POST', `/api/v1/hosts/${host}/maintenance`, {
        enabled: true,
        reason: 'patching',
      });
      assert.ok(res.statusCode < 300, res.body);
      const s = signal(host, { ruleId: 'maint' });
      await h.vigil.alerts.sink.fire(s);
      await h.vigil.alerts.sink.fire({ ...s, severity: 'critical' });
      const id = (await alertOf(s))[0]!.id;
      const d = await detail(id);
      assert.equal(d.state, 'active');
      assert.equal(d.suppressed, true);
      assert.equal(d.transitions.length, 2);
      assert.deepEqual(await jobsOf(id), []);
      await h.vigil.alerts.sink.clear(s, clock);
      assert.deepEqual(await jobsOf(id), []);
      // Out of maintenance, a new alert notifies again.
      await call('POST', `/api/v1/hosts/${host}/maintenance`, { enabled: false });
      await h.vigil.alerts.sink.fire(s);
      const fresh = (await alertOf(s)).find((r) => r.state === 'active')!;
      assert.equal(fresh.suppressed, 0);
      assert.deepEqual(await jobsOf(fresh.id), ['opened']);
    });
  });
}
