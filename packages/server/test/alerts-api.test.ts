import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { AlertSignal } from '../src/alerts/model.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { alertApi } from '../../../test/support/alerts.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

// The alerts API around the lifecycle: the list's filters, cursor and limits; silences; Tyto's
// thresholds; who may do what (Tyto's example role, a viewer); alert events on the live stream.

/** Reads an SSE stream's event names and data until closed. */
function openStream(port: number, token: string) {
  const events: { event: string; data: string }[] = [];
  const req = http.get({
    host: '127.0.0.1',
    port,
    path: '/api/v1/stream',
    headers: { authorization: `Bearer ${token}` },
  });
  const ready = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { event: '', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) ev.event = line.slice(7);
            if (line.startsWith('data: ')) ev.data = line.slice(6);
          }
          if (ev.event) events.push(ev);
        }
      });
      resolve();
    });
    req.on('error', reject);
  });
  return { events, ready, close: () => req.destroy() };
}

const waitFor = async (what: string, fn: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

for (const kind of await databaseKinds()) {
  describe(`alerts API on ${kind.name}`, () => {
    let h: Harness;
    let token: string;

    const { call, fails, newHost } = alertApi(
      () => h,
      () => token,
      'api',
    );
    const fire = (hostId: string, more: Partial<AlertSignal> = {}) =>
      h.vigil.alerts.sink.fire({
        ruleId: 'disk-full',
        hostId,
        labels: { mountpoint: '/' },
        type: 'disk',
        severity: 'warning',
        message: 'disk filling',
        value: 85,
        threshold: 80,
        agentId: null,
        at: Date.now(),
        ...more,
      });
    type Item = {
      id: string;
      state: string;
      severity: string;
      host_id: string;
      started_at: string;
    };
    const list = async (query: string) => {
      const res = await call('GET', `/api/v1/alerts${query}`);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json() as { alerts: Item[]; items: Item[]; next_cursor: string | null };
      assert.deepEqual(body.alerts, body.items);
      return body;
    };

    before(async () => {
      h = await startHarness(kind);
      token = await h.login();
    });
    after(() => h.close());

    test('the list: filters, cursor, limits, and bad filters (400)', async () => {
      const host = await newHost();
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      for (let i = 0; i < 7; i++)
        await fire(host, {
          ruleId: `r${i}`,
          severity: i % 2 === 0 ? 'critical' : 'warning',
          at: t0 + i * 60_000,
        });
      const body = await list(`?host_id=${host}`);
      assert.equal(body.items.length, 7);
      assert.ok(body.items.every((a) => a.state === 'active' && a.host_id === host));
      // Newest first.
      assert.deepEqual(
        body.items.map((a) => a.started_at),
        [...body.items.map((a) => a.started_at)].sort().reverse(),
      );
      assert.deepEqual(Object.keys((await call('GET', '/api/v1/alerts')).json().config), [
        'cpu',
        'memory',
        'disk',
      ]);
      // The body is the OpenAPI document's AlertList: its fields, and each item's, exactly.
      const res = await call('GET', `/api/v1/alerts?host_id=${host}`);
      assert.match(String(res.headers['content-type']), /^application\/json; charset=utf-8/);
      const whole = res.json() as Record<string, unknown> & { alerts: unknown[]; items: unknown[] };
      const doc = (await h.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
        paths: Record<string, { get: { responses: Record<string, unknown> } }>;
        components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> };
      };
      type Schema = { $ref?: string; properties?: Record<string, Schema>; items?: Schema };
      const deref = (x: Schema): Schema =>
        x.$ref ? (doc.components!.schemas![x.$ref.split('/').pop()!] as Schema) : x;
      const ok = doc.paths['/api/v1/alerts']!.get.responses['200'] as {
        content: Record<string, { schema: Schema }>;
      };
      const listSchema = deref(ok.content['application/json']!.schema);
      assert.deepEqual(Object.keys(whole), Object.keys(listSchema.properties!));
      const itemSchema = deref(listSchema.properties!.items!.items!);
      assert.equal(whole.items.length, 7);
      for (const item of whole.items)
        assert.deepEqual(
          Object.keys(item as object).sort(),
          Object.keys(itemSchema.properties!).sort(),
        );
      assert.deepEqual(whole.alerts, whole.items);
      assert.equal((await list(`?host_id=${host}&severity=critical`)).items.length, 4);
      assert.equal((await list(`?host_id=${host}&severity=critical,warning`)).items.length, 7);
      const since = new Date(t0 + 2 * 60_000).toISOString();
      const until = new Date(t0 + 5 * 60_000).toISOString();
      assert.equal((await list(`?host_id=${host}&since=${since}&until=${until}`)).items.length, 3);
      // Paging by two gives every alert once.
      const seen: string[] = [];
      let cursor: string | null = '';
      let pages = 0;
      while (cursor !== null) {
        const page = await list(
          `?host_id=${host}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        seen.push(...page.items.map((a) => a.id));
        cursor = page.next_cursor;
        pages++;
      }
      assert.equal(pages, 4);
      assert.deepEqual(
        seen,
        body.items.map((a) => a.id),
      );
      // Closed alerts show with their state, or `all`.
      const first = body.items[0]!.id;
      await call('POST', `/api/v1/alerts/${first}:resolve`);
      assert.equal((await list(`?host_id=${host}`)).items.length, 6);
      assert.deepEqual(
        (await list(`?host_id=${host}&state=resolved`)).items.map((a) => a.id),
        [first],
      );
      assert.equal((await list(`?host_id=${host}&state=all`)).items.length, 7);
      assert.equal((await list(`?host_id=${host}&state=active,resolved`)).items.length, 7);
      // Open alerts in different states page as one list, newest first: every other one acknowledged.
      const open = (await list(`?host_id=${host}`)).items;
      for (const a of open.filter((_, i) => i % 2 === 1))
        assert.equal((await call('POST', `/api/v1/alerts/${a.id}:acknowledge`)).statusCode, 200);
      assert.equal((await list(`?host_id=${host}&state=acknowledged`)).items.length, 3);
      const paged: string[] = [];
      for (let c: string | null = ''; c !== null;) {
        const page = await list(
          `?host_id=${host}&limit=2${c ? `&cursor=${encodeURIComponent(c)}` : ''}`,
        );
        paged.push(...page.items.map((a) => a.id));
        c = page.next_cursor;
      }
      assert.deepEqual(
        paged,
        open.map((a) => a.id),
      );
      for (const q of [
        'state=bogus',
        'severity=fatal',
        'limit=0',
        'limit=1001',
        'limit=ten',
        'since=yesterday',
        'until=2026-13-45T00:00:00Z',
        `since=${until}&until=${since}`,
        'cursor=not-a-cursor',
      ])
        await fails(await call('GET', `/api/v1/alerts?${q}`), 400, 'validation_failed');
    });

    test('silences: match, expiry of their effect on delete, bad bodies', async () => {
      const host = await newHost();
      const other = await newHost();
      await fire(host, { ruleId: 'load' });
      await fire(other, { ruleId: 'load' });
      const endsAt = new Date(Date.now() + 3_600_000).toISOString();
      let res = await call('POST', '/api/v1/alerts/silences', {
        matchers: { host_id: host, labels: { mountpoint: '/' } },
        reason: 'disk swap',
        ends_at: endsAt,
      });
      assert.equal(res.statusCode, 201, res.body);
      const silence = res.json() as { id: string; active: boolean; matchers: object };
      assert.equal(silence.active, true);
      assert.deepEqual(silence.matchers, { host_id: host, labels: { mountpoint: '/' } });
      // The open alert of that host is silenced now; the other host's is not.
      const [mine] = (await list(`?host_id=${host}`)).items;
      assert.equal(mine!.state, 'silenced');
      assert.equal((await list(`?host_id=${other}`)).items[0]!.state, 'active');
      // A new alert it matches opens silenced and suppressed.
      await fire(host, { ruleId: 'inodes' });
      const opened = (await list(`?host_id=${host}`)).items.find((a) => a.id !== mine!.id)!;
      const detail = (await call('GET', `/api/v1/alerts/${opened.id}`)).json();
      assert.equal(detail.state, 'silenced');
      assert.equal(detail.suppressed, true);
      assert.equal(detail.silenced_until, endsAt);
      // Reads: the list (never routed as an alert id) and one silence.
      res = await call('GET', '/api/v1/alerts/silences');
      assert.equal(res.statusCode, 200, res.body);
      assert.ok((res.json().items as { id: string }[]).some((s) => s.id === silence.id));
      res = await call('GET', `/api/v1/alerts/silences/${silence.id}`);
      assert.equal(res.json().reason, 'disk swap');
      // Deleting it returns its alerts to active.
      res = await call('DELETE', `/api/v1/alerts/silences/${silence.id}`);
      assert.equal(res.statusCode, 204, res.body);
      assert.ok((await list(`?host_id=${host}`)).items.every((a) => a.state === 'active'));
      await fails(
        await call('GET', `/api/v1/alerts/silences/${silence.id}`),
        404,
        'silence.not_found',
      );
      await fails(
        await call('DELETE', `/api/v1/alerts/silences/${silence.id}`),
        404,
        'silence.not_found',
      );
      for (const body of [
        { matchers: {}, ends_at: endsAt },
        { matchers: { host_id: host }, ends_at: new Date(Date.now() - 1000).toISOString() },
        { matchers: { host_id: host }, ends_at: 'soon' },
        {
          matchers: { host_id: host },
          ends_at: new Date(Date.now() + 400 * 86_400_000).toISOString(),
        },
        { matchers: { host_id: host }, starts_at: endsAt, ends_at: endsAt },
        { matchers: { host_id: host } },
        { matchers: { nope: 1 }, ends_at: endsAt },
      ])
        await fails(await call('POST', '/api/v1/alerts/silences', body), 400);
    });

    test('thresholds: defaults, a merged change, bad bodies', async () => {
      let res = await call('GET', '/api/v1/alerts');
      assert.deepEqual(res.json().config, {
        cpu: { warning: 80, critical: 95 },
        memory: { warning: 85, critical: 95 },
        disk: { warning: 80, critical: 90 },
      });
      res = await call('POST', '/api/v1/alerts/config', {
        cpu: { warning: 70 },
        disk: { warning: 75, critical: 85 },
      });
      assert.equal(res.statusCode, 200, res.body);
      const want = {
        cpu: { warning: 70, critical: 95 },
        memory: { warning: 85, critical: 95 },
        disk: { warning: 75, critical: 85 },
      };
      assert.deepEqual(res.json(), want);
      assert.deepEqual((await call('GET', '/api/v1/alerts')).json().config, want);
      assert.deepEqual(await h.vigil.alerts.thresholds.get(), want);
      for (const body of [
        { cpu: { warning: 99 } },
        { memory: { critical: 101 } },
        { disk: { warning: -1 } },
        { cpu: { warning: 'high' } },
        { gpu: { warning: 1 } },
        { cpu: { warn: 1 } },
        { cpu: 5 },
      ])
        await fails(await call('POST', '/api/v1/alerts/config', body), 400);
      assert.deepEqual((await call('GET', '/api/v1/alerts')).json().config, want);
    });

    test("Tyto's example role lists and acknowledges; a viewer cannot acknowledge", async () => {
      const res = await call('POST', '/api/v1/roles', {
        name: 'alert-handler',
        permissions: ['dashboard:view', 'alerts:*'],
      });
      assert.equal(res.statusCode, 201, res.body);
      const handler = await h.userWithRoles('handler', ['alert-handler']);
      const viewer = await h.userWithRoles('watcher', ['viewer']);
      const host = await newHost();
      await fire(host, { ruleId: 'perm' });
      const [a] = (await list(`?host_id=${host}`)).items;
      assert.equal(
        (await call('GET', `/api/v1/alerts?host_id=${host}`, undefined, viewer)).statusCode,
        200,
      );
      await fails(
        await call('POST', `/api/v1/alerts/${a!.id}:acknowledge`, undefined, viewer),
        403,
      );
      await fails(
        await call('POST', `/api/v1/alerts/${a!.id}/acknowledge`, undefined, viewer),
        403,
      );
      await fails(
        await call('POST', '/api/v1/alerts/config', { cpu: { warning: 1 } }, viewer),
        403,
      );
      assert.equal(
        (await call('GET', `/api/v1/alerts?host_id=${host}`, undefined, handler)).statusCode,
        200,
      );
      const ack = await call('POST', `/api/v1/alerts/${a!.id}/acknowledge`, undefined, handler);
      assert.equal(ack.statusCode, 200, ack.body);
      assert.equal(ack.json().acknowledged, true);
      const d = (await call('GET', `/api/v1/alerts/${a!.id}`, undefined, handler)).json();
      assert.equal(d.transitions.at(-1).actor.label, 'handler');
    });

    test('alert events on the live stream, only to those who may read alerts', async () => {
      await h.vigil.http.listen({ host: '127.0.0.1', port: 0 });
      const port = (h.vigil.http.server.address() as AddressInfo).port;
      const role = await call('POST', '/api/v1/roles', {
        name: 'hosts-only',
        permissions: ['host:read'],
      });
      assert.equal(role.statusCode, 201, role.body);
      const hostsOnly = await h.userWithRoles('hostwatcher', ['hosts-only']);
      const allowed = openStream(port, token);
      const denied = openStream(port, hostsOnly);
      try {
        await Promise.all([allowed.ready, denied.ready]);
        const host = await newHost();
        await fire(host, { ruleId: 'stream' });
        const [a] = (await list(`?host_id=${host}`)).items;
        await call('POST', `/api/v1/alerts/${a!.id}:acknowledge`);
        await waitFor(
          'two alert events',
          () => allowed.events.filter((e) => e.event === 'alert').length >= 2,
        );
        const [opened, acked] = allowed.events
          .filter((e) => e.event === 'alert')
          .map(
            (e) =>
              JSON.parse(e.data) as {
                alert: Item;
                transition: { from: string | null; to: string };
              },
          );
        assert.equal(opened!.alert.id, a!.id);
        assert.deepEqual([opened!.transition.from, opened!.transition.to], [null, 'active']);
        assert.deepEqual(
          [acked!.transition.from, acked!.transition.to],
          ['active', 'acknowledged'],
        );
        assert.equal(acked!.alert.state, 'acknowledged');
        // An agent's status event reaches both: the denied stream is alive, and got no alert.
        await h.vigil.db.kysely
          .insertInto('agents')
          .values({
            id: 'stream-agent',
            name: 'stream-agent',
            host_id: host,
            kind: 'native',
            approval: 'pending',
            interval_seconds: 10,
            registered_at: 0,
            updated_at: 0,
          })
          .execute();
        await h.vigil.agentStatus.check('stream-agent', true);
        await waitFor('the agent event', () => denied.events.some((e) => e.event === 'agent'));
        assert.deepEqual(
          denied.events.filter((e) => e.event === 'alert'),
          [],
        );
      } finally {
        allowed.close();
        denied.close();
      }
    });

    test('a role with alerts only streams alert events alone; one with neither is refused', async () => {
      const port = (h.vigil.http.server.address() as AddressInfo).port;
      const role = await call('POST', '/api/v1/roles', {
        name: 'alerts-only',
        permissions: ['dashboard:view', 'alerts:*'],
      });
      assert.equal(role.statusCode, 201, role.body);
      const alertsOnly = await h.userWithRoles('alertwatcher', ['alerts-only']);
      const none = await call('POST', '/api/v1/roles', {
        name: 'nothing',
        permissions: ['audit:read'],
      });
      assert.equal(none.statusCode, 201, none.body);
      const auditor = await h.userWithRoles('streamless', ['nothing']);
      const refused = openStream(port, auditor);
      await assert.rejects(refused.ready, /HTTP 403/);
      const stream = openStream(port, alertsOnly);
      try {
        await stream.ready;
        const host = await newHost();
        await h.vigil.db.kysely
          .insertInto('agents')
          .values({
            id: 'alerts-only-agent',
            name: 'alerts-only-agent',
            host_id: host,
            kind: 'native',
            approval: 'pending',
            interval_seconds: 10,
            registered_at: 0,
            updated_at: 0,
          })
          .execute();
        await h.vigil.agentStatus.check('alerts-only-agent', true);
        await fire(host, { ruleId: 'alerts-only' });
        await waitFor('the alert event', () => stream.events.some((e) => e.event === 'alert'));
        assert.deepEqual(
          stream.events.filter((e) => e.event !== 'alert'),
          [],
        );
      } finally {
        stream.close();
        refused.close();
      }
    });
  });
}
