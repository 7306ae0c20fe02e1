// Over 500 lines: one suite per database kind on one harness each (channels, grouping, rate
// limit, reminders and retries share the receiver and the server).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { AlertItem } from '../src/alerts/model.js';
import { composeNotifications, type NotificationParts } from '../src/app-notifications.js';
import { systemContext } from '../src/audit/service.js';
import type { ChannelCreate } from '../src/notifications/channels.js';
import { JOB_KINDS, type AlertSource } from '../src/notifications/model.js';
import { routes } from '../src/notifications/routing.js';
import { createJobRunner } from '../src/jobs/runner.js';
import { createJobStore } from '../src/jobs/store.js';
import { signWebhook } from '../src/notifications/senders/webhook.js';
import { masterKey } from '../src/secrets/master-key.js';
import { createSealer } from '../src/secrets/sealer.js';
import { alertItem } from '../../../test/support/alerts.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const SECRET = 'hmac-canary-7f3a9';
const HEADER_SECRET = 'Bearer header-canary-51c2';

/** A webhook receiver on loopback that answers from a script of statuses (200 when empty). */
async function receiver() {
  const got: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const script: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ url: req.url ?? '', headers: req.headers, body });
      res.writeHead(script.shift() ?? 200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    got,
    script,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

for (const [filters, alert, host, want] of [
  [{}, {}, undefined, true],
  [{ severities: ['critical'] }, { severity: 'critical' }, undefined, true],
  [{ severities: ['critical'] }, { severity: 'warning' }, undefined, false],
  [{ rule_ids: ['r2'] }, {}, undefined, false],
  [{ environments: ['prod'] }, {}, { tags: [], environment: 'prod' }, true],
  [{ environments: ['prod'] }, {}, { tags: [], environment: 'dev' }, false],
  [{ environments: ['prod'] }, {}, undefined, false],
  [{ host_tags: ['db', 'web'] }, {}, { tags: ['web'], environment: null }, true],
  [{ host_tags: ['db'] }, {}, { tags: ['web'], environment: null }, false],
  [
    { severities: ['critical'], host_tags: ['web'], environments: ['prod'], rule_ids: ['r1'] },
    {},
    { tags: ['web'], environment: 'prod' },
    true,
  ],
  [
    { severities: ['critical'], host_tags: ['web'], environments: ['prod'], rule_ids: ['r1'] },
    {},
    { tags: ['web'], environment: 'dev' },
    false,
  ],
] as const)
  test(`routing: ${JSON.stringify(filters)} ${JSON.stringify(host ?? null)} → ${want}`, () =>
    assert.equal(
      routes(
        filters as never,
        alertItem(alert as Partial<AlertItem>),
        host as { tags: string[]; environment: string | null } | undefined,
      ),
      want,
    ));

for (const kind of await databaseKinds()) {
  describe(`notifications on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let rx: Awaited<ReturnType<typeof receiver>>;
    let clock = Date.parse('2026-12-01T10:00:00Z');
    const alerts = new Map<string, AlertItem>();
    const source: AlertSource = {
      get: async (id) => alerts.get(id),
      listOpen: async () =>
        [...alerts.values()].filter((a) => a.state !== 'resolved' && a.state !== 'dismissed'),
    };
    let n: NotificationParts;
    const handlers: Record<string, (p: unknown) => Promise<void>> = {};

    const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      h.inject({
        method,
        url,
        headers: bearer(admin),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });

    /** Runs every due job as a worker would: a throwing handler's job is retried 10 s later. */
    async function runJobs(): Promise<{ failed: number }> {
      const k = h.vigil.db.kysely;
      let failed = 0;
      for (;;) {
        const job = await k
          .selectFrom('jobs')
          .selectAll()
          .where('state', '=', 'queued')
          .where('run_at', '<=', clock)
          .orderBy('run_at')
          .orderBy('created_at')
          .executeTakeFirst();
        if (!job) return { failed };
        const handler = handlers[job.kind];
        assert.ok(handler, `no handler for ${job.kind}`);
        await k.updateTable('jobs').set({ state: 'running' }).where('id', '=', job.id).execute();
        try {
          await handler(JSON.parse(job.payload));
          await k
            .updateTable('jobs')
            .set({ state: 'succeeded' })
            .where('id', '=', job.id)
            .execute();
        } catch (err) {
          failed++;
          await k
            .updateTable('jobs')
            .set({
              state: Number(job.attempts) + 1 >= Number(job.max_attempts) ? 'dead' : 'queued',
              attempts: Number(job.attempts) + 1,
              run_at: clock + 10_000,
              last_error: (err as Error).message,
            })
            .where('id', '=', job.id)
            .execute();
          clock += 10_000;
        }
      }
    }

    /** An alert of the fixture source, and its `alert.notify` job run at once. */
    async function fire(over: Partial<AlertItem>, event = 'opened') {
      const a = alertItem({ id: `a${Math.random().toString(36).slice(2, 10)}`, ...over });
      alerts.set(a.id, a);
      await n.dispatcher.notify({ alert_id: a.id, transition_id: 't', event });
      return a;
    }

    const channel = (over: Partial<ChannelCreate> = {}) =>
      n.channels.create(systemContext('test'), {
        name: 'hook',
        type: 'webhook',
        settings: { url: `${rx.url}/hook` },
        ...over,
      });

    before(async () => {
      h = await startHarness(kind, { now: () => clock });
      admin = await h.login();
      rx = await receiver();
      n = composeNotifications({
        db: h.vigil.db,
        sealer: createSealer(randomBytes(32)),
        hosts: { get: async () => undefined },
        alerts: source,
        timeoutMs: 2000,
        now: () => clock,
        logger: pino({ level: 'silent' }),
      });
      n.registerJobs({ register: (k, fn) => void (handlers[k] = fn) });
    });
    after(async () => {
      await rx.close();
      await h.close();
    });

    test('channels: create, read, change, delete; secrets never answered, sealed in the table', async () => {
      const res = await call('POST', '/api/v1/notifications/channels', {
        name: 'ops',
        type: 'webhook',
        settings: {
          url: `${rx.url}/hook`,
          secret: SECRET,
          headers: { Authorization: HEADER_SECRET },
        },
        filters: { severities: ['critical'] },
      });
      assert.equal(res.statusCode, 201, res.body);
      const c = res.json();
      assert.equal(c.group_wait_seconds, 30);
      assert.equal(c.repeat_interval_seconds, 14_400);
      assert.equal(c.send_resolved, true);
      assert.deepEqual(c.settings, { url: `${rx.url}/hook`, has_secret: true, has_headers: true });
      const got = await call('GET', `/api/v1/notifications/channels/${c.id}`);
      const list = await call('GET', '/api/v1/notifications/channels');
      for (const body of [res.body, got.body, list.body]) {
        assert.ok(!body.includes(SECRET));
        assert.ok(!body.includes('header-canary'));
      }
      const row = await h.vigil.db.kysely
        .selectFrom('notification_channels')
        .selectAll()
        .where('id', '=', c.id)
        .executeTakeFirstOrThrow();
      assert.ok(row.secrets_sealed?.startsWith('v1.'));
      assert.ok(!JSON.stringify(row).includes(SECRET));
      assert.ok(!JSON.stringify(row).includes('header-canary'));

      // A change without secrets keeps them; null removes one.
      const kept = await call('PATCH', `/api/v1/notifications/channels/${c.id}`, {
        settings: { url: `${rx.url}/other` },
        rate_limit_per_hour: 5,
      });
      assert.equal(kept.statusCode, 200, kept.body);
      assert.equal(kept.json().settings.has_secret, true);
      assert.equal(kept.json().settings.url, `${rx.url}/other`);
      assert.equal(kept.json().rate_limit_per_hour, 5);
      const removed = await call('PATCH', `/api/v1/notifications/channels/${c.id}`, {
        settings: { url: `${rx.url}/other`, secret: null },
      });
      assert.equal(removed.json().settings.has_secret, false);
      assert.equal(removed.json().settings.has_headers, true);

      const del = await call('DELETE', `/api/v1/notifications/channels/${c.id}`);
      assert.equal(del.statusCode, 204);
      assert.equal((await call('GET', `/api/v1/notifications/channels/${c.id}`)).statusCode, 404);
      assert.equal(
        (await call('DELETE', `/api/v1/notifications/channels/${c.id}`)).statusCode,
        404,
      );
    });

    test('channels: bad input is 400 naming the field', async () => {
      const email = {
        host: 'smtp.example.org',
        from: 'vigil@example.org',
        to: ['ops@example.org'],
      };
      for (const [body, field] of [
        [{ type: 'webhook', settings: { url: 'ftp://example.org/x' } }, 'settings.url'],
        [{ type: 'webhook', settings: { url: 'not a url' } }, 'settings.url'],
        [{ type: 'webhook', settings: {} }, 'settings.url'],
        [{ type: 'webhook', settings: { url: 'https://x.example', topic: 't' } }, 'settings.topic'],
        [{ type: 'email', settings: { ...email, host: undefined } }, 'settings.host'],
        [{ type: 'email', settings: { ...email, from: 'nobody' } }, 'settings.from'],
        [{ type: 'email', settings: { ...email, to: [] } }, 'settings.to'],
        [{ type: 'email', settings: { ...email, port: 70000 } }, 'settings.port'],
        [{ type: 'ntfy', settings: { url: 'https://ntfy.sh' } }, 'settings.topic'],
        [
          { type: 'ntfy', settings: { url: 'https://ntfy.sh', topic: 'a', priority: 9 } },
          'settings.priority',
        ],
        [{ type: 'slack', settings: {} }, 'settings.url'],
        [{ type: 'pager', settings: {} }, 'type'],
        [
          { type: 'webhook', settings: { url: 'https://x.example' }, group_wait_seconds: -1 },
          'group_wait_seconds',
        ],
        [
          {
            type: 'webhook',
            settings: { url: 'https://x.example' },
            filters: { severities: ['bad'] },
          },
          'severities',
        ],
      ] as const) {
        const res = await call('POST', '/api/v1/notifications/channels', { name: 'x', ...body });
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.match(res.body, new RegExp(field.replace('.', '\\.')), res.body);
      }
      const ok = await call('POST', '/api/v1/notifications/channels', {
        name: 'mail',
        type: 'email',
        settings: email,
      });
      assert.equal(ok.statusCode, 201, ok.body);
      const typeChange = await call('PATCH', `/api/v1/notifications/channels/${ok.json().id}`, {
        type: 'webhook',
      });
      assert.equal(typeChange.statusCode, 400);
      assert.match(typeChange.body, /type/);
    });

    test('channels: :test sends one message now and tells how it went', async () => {
      const made = await call('POST', '/api/v1/notifications/channels', {
        name: 't',
        type: 'webhook',
        settings: { url: `${rx.url}/test`, secret: SECRET },
      });
      const id = made.json().id;
      const before = rx.got.length;
      const res = await call('POST', `/api/v1/notifications/channels/${id}:test`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().delivered, true);
      assert.equal(res.json().status, 200);
      assert.equal(rx.got.length, before + 1);
      assert.equal(JSON.parse(rx.got.at(-1)!.body).kind, 'test');
      rx.script.push(503);
      const failed = (await call('POST', `/api/v1/notifications/channels/${id}:test`)).json();
      assert.equal(failed.delivered, false);
      assert.match(failed.error, /HTTP 503/);
      assert.equal(
        (await call('POST', '/api/v1/notifications/channels/nope:test')).statusCode,
        404,
      );
      // The channels made through the API (sealed with the server's key) leave the stage to the
      // dispatch tests.
      await h.vigil.db.kysely.deleteFrom('notification_channels').execute();
    });

    test('grouping: several alerts of one rule become one webhook request listing them', async () => {
      const ch = await channel({ group_wait_seconds: 30, repeat_interval_seconds: 0 });
      const before = rx.got.length;
      const fired = [];
      for (const host of ['web-1', 'web-2', 'web-3'])
        fired.push(await fire({ rule_id: 'grp', rule_name: 'Disk full', host_name: host }));
      await runJobs();
      assert.equal(rx.got.length, before, 'nothing before the group wait');
      clock += 30_000;
      await runJobs();
      const mine = rx.got.slice(before);
      assert.equal(mine.length, 1);
      const body = JSON.parse(mine[0]!.body);
      assert.deepEqual(body.alerts.map((a: AlertItem) => a.host_name).sort(), [
        'web-1',
        'web-2',
        'web-3',
      ]);
      assert.equal(body.title, '[FIRING:3] Disk full (opened)');
      const log = await n.dispatcher.deliveries(fired[0]!.id);
      assert.deepEqual(
        log.map((l) => [l.channel_id, l.outcome, l.status]),
        [[ch.id, 'delivered', 200]],
      );
      await n.channels.remove(systemContext('test'), ch.id);
    });

    test('rate limit: beyond it alerts are folded into one summary, not dropped', async () => {
      const ch = await channel({
        group_wait_seconds: 0,
        rate_limit_per_hour: 2,
        repeat_interval_seconds: 0,
      });
      const before = rx.got.length;
      const fired = [];
      for (const rule of ['rl1', 'rl2', 'rl3', 'rl4']) {
        fired.push(await fire({ rule_id: rule, rule_name: rule }));
        await runJobs();
      }
      assert.equal(rx.got.length - before, 2);
      const folded = await n.dispatcher.deliveries(fired[3]!.id);
      assert.deepEqual(
        folded.map((l) => l.outcome),
        ['folded'],
      );
      clock += 3_600_000;
      await runJobs();
      const mine = rx.got.slice(before);
      assert.equal(mine.length, 3);
      const summary = JSON.parse(mine[2]!.body);
      assert.equal(summary.kind, 'summary');
      assert.deepEqual(summary.alerts.map((a: AlertItem) => a.rule_id).sort(), ['rl3', 'rl4']);
      assert.deepEqual(
        (await n.dispatcher.deliveries(fired[3]!.id)).map((l) => l.outcome),
        ['folded', 'delivered'],
      );
      await n.channels.remove(systemContext('test'), ch.id);
    });

    test('reminders: unacknowledged alerts are notified again after the repeat interval', async () => {
      const ch = await channel({
        group_wait_seconds: 0,
        repeat_interval_seconds: 3600,
        filters: { rule_ids: ['rem'] },
      });
      const before = rx.got.length;
      const open = await fire({ rule_id: 'rem', started_at: new Date(clock).toISOString() });
      const acked = await fire({ rule_id: 'rem', started_at: new Date(clock).toISOString() });
      await runJobs();
      assert.equal(rx.got.length - before, 1);
      alerts.set(acked.id, { ...acked, state: 'acknowledged', acknowledged: true });
      clock += 30 * 60_000;
      await n.dispatcher.tick();
      await runJobs();
      assert.equal(rx.got.length - before, 1, 'not before the interval');
      clock += 31 * 60_000;
      await n.dispatcher.tick();
      await runJobs();
      assert.equal(rx.got.length - before, 2);
      const reminder = JSON.parse(rx.got.at(-1)!.body);
      assert.equal(reminder.event, 'reminder');
      assert.deepEqual(
        reminder.alerts.map((a: AlertItem) => a.id),
        [open.id],
      );
      await n.dispatcher.tick();
      await runJobs();
      assert.equal(rx.got.length - before, 2, 'once per interval');
      await n.channels.remove(systemContext('test'), ch.id);
    });

    test('a failing receiver is retried and the message delivered exactly once', async () => {
      const ch = await channel({
        group_wait_seconds: 0,
        repeat_interval_seconds: 0,
        filters: { rule_ids: ['retry'] },
      });
      const before = rx.got.length;
      rx.script.push(500, 502);
      const a = await fire({ rule_id: 'retry' });
      const { failed } = await runJobs();
      assert.equal(failed, 2);
      assert.equal(rx.got.length - before, 3);
      const log = await n.dispatcher.deliveries(a.id);
      assert.deepEqual(
        log.map((l) => l.outcome),
        ['failed', 'failed', 'delivered'],
      );
      assert.match(log[0]!.error!, /HTTP 500/);
      // Running the delivery job again sends nothing: the message is marked sent.
      const msg = await h.vigil.db.kysely
        .selectFrom('notification_messages')
        .select('id')
        .where('channel_id', '=', ch.id)
        .executeTakeFirstOrThrow();
      await handlers[JOB_KINDS.deliver]!({ message_id: msg.id });
      assert.equal(rx.got.length - before, 3);
      await n.channels.remove(systemContext('test'), ch.id);
    });

    test('routing: suppressed alerts and filtered channels notify no one; send_resolved', async () => {
      const ch = await channel({
        group_wait_seconds: 0,
        repeat_interval_seconds: 0,
        send_resolved: false,
        filters: { severities: ['critical'], rule_ids: ['route'] },
      });
      const before = rx.got.length;
      await fire({ rule_id: 'route', suppressed: true });
      await fire({ rule_id: 'route', severity: 'warning', level: 'warning' });
      await fire({ rule_id: 'route', state: 'resolved' }, 'resolved');
      await runJobs();
      assert.equal(rx.got.length, before);
      await fire({ rule_id: 'route' });
      await runJobs();
      assert.equal(rx.got.length, before + 1);
      await n.channels.remove(systemContext('test'), ch.id);
    });

    test('the delivery log route needs alerts:read', async () => {
      const res = await h.inject({ method: 'GET', url: '/api/v1/alerts/x/notifications' });
      assert.equal(res.statusCode, 401);
    });
  });
}

for (const kind of await databaseKinds()) {
  describe(`notification delivery through the job runner on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let rx: Awaited<ReturnType<typeof receiver>>;
    let clock = Date.parse('2026-12-01T10:00:00Z');
    let runner: ReturnType<typeof createJobRunner>;

    before(async () => {
      // The server's own workers stay off: this runner, on the test's clock, runs the jobs.
      h = await startHarness(kind, {
        now: () => clock,
        env: { VIGIL_JOBS_WORKERS_IN_PROCESS: 'false' },
      });
      admin = await h.login();
      rx = await receiver();
      const parts = composeNotifications({
        db: h.vigil.db,
        sealer: createSealer(
          masterKey(
            h.config.storage.master_key_file || path.join(h.config.storage.data_dir, 'master.key'),
          ),
        ),
        hosts: { get: async () => undefined },
        lifecycle: h.vigil.alerts.lifecycle,
        timeoutMs: 2000,
        now: () => clock,
        logger: pino({ level: 'silent' }),
      });
      runner = createJobRunner({
        store: createJobStore(h.vigil.db.kysely, () => clock),
        now: () => clock,
        random: () => 0.5,
        concurrency: 1,
      });
      parts.registerJobs({
        register: (k, fn) => runner.register(k, (job) => fn(job.payload)),
      });
    });
    after(async () => {
      await runner.stop();
      await rx.close();
      await h.close();
    });

    test('a webhook whose receiver fails twice is retried and delivered exactly once', async () => {
      const made = await h.inject({
        method: 'POST',
        url: '/api/v1/notifications/channels',
        headers: bearer(admin),
        payload: {
          name: 'retried',
          type: 'webhook',
          settings: { url: `${rx.url}/retry`, secret: SECRET },
          group_wait_seconds: 0,
        },
      });
      assert.equal(made.statusCode, 201, made.body);
      const host = await h.inject({
        method: 'POST',
        url: '/api/v1/hosts',
        headers: bearer(admin),
        payload: { hostname: 'notify-1', ip_address: '127.0.0.1', port: 1 },
      });
      assert.equal(host.statusCode, 201, host.body);
      rx.script.push(500, 503);
      await h.vigil.alerts.sink.fire({
        ruleId: 'disk-full',
        hostId: host.json().id,
        labels: { mountpoint: '/' },
        type: 'disk',
        severity: 'critical',
        message: 'disk filling',
        value: 95,
        threshold: 90,
        agentId: null,
        at: clock,
      });
      await runner.drain();
      assert.equal(rx.got.length, 1);
      // The backoff (5 s, then 10 s) passes on the test's clock.
      clock += 5_000;
      await runner.drain();
      assert.equal(rx.got.length, 2);
      clock += 10_000;
      await runner.drain();
      assert.equal(rx.got.length, 3);
      clock += 3_600_000;
      await runner.drain();
      assert.equal(rx.got.length, 3, 'delivered once');
      const body = JSON.parse(rx.got[2]!.body);
      assert.equal(body.alerts.length, 1);
      assert.equal(body.alerts[0].message, 'disk filling');
      const alertId = body.alerts[0].id as string;
      const ts = String(rx.got[2]!.headers['x-vigil-timestamp']);
      assert.equal(
        rx.got[2]!.headers['x-vigil-signature'],
        `sha256=${signWebhook(SECRET, ts, rx.got[2]!.body)}`,
      );
      // An hour on, the first token has expired.
      admin = await h.login();
      const log = await h.inject({
        method: 'GET',
        url: `/api/v1/alerts/${alertId}/notifications`,
        headers: bearer(admin),
      });
      assert.equal(log.statusCode, 200, log.body);
      assert.deepEqual(
        log
          .json()
          .items.map((i: { outcome: string; status: number | null }) => [i.outcome, i.status]),
        [
          ['failed', null],
          ['failed', null],
          ['delivered', 200],
        ],
      );
      assert.match(log.json().items[0].error, /HTTP 500/);
      const unknown = await h.inject({
        method: 'GET',
        url: '/api/v1/alerts/no-such-alert/notifications',
        headers: bearer(admin),
      });
      assert.equal(unknown.statusCode, 404);
    });
  });
}
