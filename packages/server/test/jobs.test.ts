import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { backoffMs, createJobRunner, type RunningJob } from '../src/jobs/runner.js';
import { createJobStore } from '../src/jobs/store.js';
import { createLeaderElection, createPeriodicRunStore } from '../src/jobs/leader-store.js';
import { startJobs } from '../src/scheduler.js';
import pino from 'pino';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

test('backoff doubles from 5 s, is capped at an hour, and spreads by ±20 %', () => {
  for (const [attempt, random, expected] of [
    [1, 0.5, 5_000],
    [2, 0.5, 10_000],
    [3, 0.5, 20_000],
    [11, 0.5, 3_600_000],
    [40, 0.5, 3_600_000],
    [1, 0, 4_000],
    [1, 0.999999, 6_000],
  ] as const)
    assert.equal(
      backoffMs(attempt, () => random),
      expected,
      `attempt ${attempt}, ${random}`,
    );
});

for (const kind of await databaseKinds()) {
  describe(`job queue on ${kind.name}`, () => {
    let h: Harness;
    let clock = Date.parse('2026-12-01T12:00:00Z');
    const now = () => clock;
    before(async () => {
      h = await startHarness(kind, { now, env: { VIGIL_JOBS_WORKERS_IN_PROCESS: 'false' } });
    });
    after(() => h.close());
    // Each test starts on an empty queue.
    beforeEach(() => h.vigil.db.kysely.deleteFrom('jobs').execute());

    const store = () => createJobStore(h.vigil.db.kysely, now);
    const runner = (workerId?: string) =>
      createJobRunner({ store: store(), now, random: () => 0.5, workerId, pollMs: 60_000 });
    const row = (id: string) =>
      store()
        .get(id)
        .then((r) => r!);

    test('a due job is claimed, run once with its payload, and marked succeeded', async () => {
      const r = runner();
      const seen: RunningJob[] = [];
      r.register('t.ok', async (job) => void seen.push(job));
      const id = (await r.enqueuer.enqueue({ kind: 't.ok', payload: { host: 'h1' } }))!;
      const later = (await r.enqueuer.enqueue({
        kind: 't.ok',
        payload: {},
        runAt: clock + 60_000,
      }))!;
      assert.equal(await r.drain(), 1);
      assert.equal(seen.length, 1);
      assert.deepEqual(
        { id: seen[0]!.id, payload: seen[0]!.payload, attempt: seen[0]!.attempt },
        { id, payload: { host: 'h1' }, attempt: 1 },
      );
      const done = await row(id);
      assert.equal(done.state, 'succeeded');
      assert.equal(done.finished_at, clock);
      assert.equal(done.locked_by, null);
      assert.equal((await row(later)).state, 'queued', 'a job not yet due waits');
      clock += 60_000;
      assert.equal(await r.drain(), 1);
      assert.equal((await row(later)).state, 'succeeded');
    });

    test('a failed attempt is retried after an exponential backoff, then succeeds', async () => {
      const r = runner();
      let calls = 0;
      r.register('t.flaky', async () => {
        calls++;
        if (calls <= 2) throw new Error(`receiver said 503 (${calls})`);
      });
      const id = (await r.enqueuer.enqueue({ kind: 't.flaky', payload: {} }))!;
      assert.equal(await r.drain(), 1);
      let j = await row(id);
      assert.equal(j.state, 'queued');
      assert.equal(j.attempts, 1);
      assert.equal(j.last_error, 'receiver said 503 (1)');
      assert.equal(j.run_at, clock + 5_000);
      clock += 4_999;
      assert.equal(await r.drain(), 0, 'not before its backoff');
      clock += 1;
      assert.equal(await r.drain(), 1);
      j = await row(id);
      assert.equal(j.run_at, clock + 10_000, 'the second delay doubles');
      clock += 10_000;
      assert.equal(await r.drain(), 1);
      j = await row(id);
      assert.equal(j.state, 'succeeded');
      assert.equal(j.attempts, 3);
      assert.equal(calls, 3);
    });

    test('a job is dead after its last attempt', async () => {
      const r = runner();
      let calls = 0;
      r.register('t.fail', async () => {
        calls++;
        throw new Error('always');
      });
      const id = (await r.enqueuer.enqueue({ kind: 't.fail', payload: {}, maxAttempts: 3 }))!;
      for (let i = 0; i < 5; i++) {
        await r.drain();
        clock += 3_600_000;
      }
      const j = await row(id);
      assert.equal(calls, 3);
      assert.equal(j.state, 'dead');
      assert.equal(j.attempts, 3);
      assert.equal(j.last_error, 'always');
      assert.ok(j.finished_at !== null);
    });

    test('a job of a kind without a handler fails with a clear error', async () => {
      const r = runner();
      const id = (await r.enqueuer.enqueue({ kind: 't.nobody', payload: {}, maxAttempts: 1 }))!;
      await r.drain();
      const j = await row(id);
      assert.equal(j.state, 'dead');
      assert.match(j.last_error!, /no handler is registered for jobs of kind 't\.nobody'/);
    });

    test('an attempt past its timeout fails and is aborted', async () => {
      const r = runner();
      let aborted = false;
      r.register(
        't.slow',
        (job) =>
          new Promise<void>((resolve) =>
            job.signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            }),
          ),
        { timeoutMs: 50 },
      );
      const id = (await r.enqueuer.enqueue({ kind: 't.slow', payload: {} }))!;
      await r.drain();
      const j = await row(id);
      assert.equal(j.state, 'queued');
      assert.match(j.last_error!, /timeout of 50 ms/);
      assert.ok(aborted);
    });

    test('a running job whose worker died is taken back once its lock expires', async () => {
      const id = (await store().enqueue({ kind: 't.orphan', payload: {} }))!;
      const [claimed] = await store().claim('dead-worker', 10, 90_000);
      assert.equal(claimed?.id, id);
      const r = runner('live-worker');
      const seen: number[] = [];
      r.register('t.orphan', async (job) => void seen.push(job.attempt));
      assert.equal(await r.drain(), 0, 'still locked');
      clock += 90_001;
      assert.equal(await r.drain(), 1);
      assert.deepEqual(seen, [2], 'the lost attempt counts');
      assert.equal((await row(id)).state, 'succeeded');
      // The dead worker's late report changes nothing.
      assert.equal(await store().complete(id, 'dead-worker'), false);
      assert.equal(await store().fail(id, 'dead-worker', 'late', clock), false);
    });

    test('a dedup key queues one unfinished job; once finished, the key is free', async () => {
      const r = runner();
      r.register('t.dedup', async () => undefined);
      const first = await r.enqueuer.enqueue({ kind: 't.dedup', payload: {}, dedupKey: 'k1' });
      assert.ok(first);
      assert.equal(
        await r.enqueuer.enqueue({ kind: 't.dedup', payload: {}, dedupKey: 'k1' }),
        undefined,
      );
      await r.drain();
      assert.ok(await r.enqueuer.enqueue({ kind: 't.dedup', payload: {}, dedupKey: 'k1' }));
    });

    test('concurrent claimers get disjoint jobs', async () => {
      const ids = new Set<string>();
      for (let i = 0; i < 60; i++)
        ids.add((await store().enqueue({ kind: 't.race', payload: { i } }))!);
      const batches = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store().claim(`claimer-${i}`, 15, 60_000)),
      );
      const got = batches.flat().map((j) => j.id);
      assert.equal(new Set(got).size, got.length, 'no job claimed twice');
      assert.deepEqual(new Set(got), ids, 'every job claimed');
      for (const [i, batch] of batches.entries()) {
        assert.ok(batch.length <= 15, `claimer-${i} asked for 15 and got ${batch.length}`);
        for (const j of batch) assert.equal(j.locked_by, `claimer-${i}`);
      }
    });

    test('a claim takes at most the jobs asked for, the longest due first', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 120; i++) {
        clock += 1;
        ids.push((await store().enqueue({ kind: 't.limit', payload: { i } }))!);
      }
      const taken: string[] = [];
      for (let n = 0; n < 30; n++) {
        const batch = await store().claim('one-claimer', 4, 60_000);
        assert.equal(batch.length, 4, `claim ${n} asked for 4 and got ${batch.length}`);
        taken.push(...batch.map((j) => j.id));
      }
      assert.deepEqual(taken, ids);
      assert.deepEqual(await store().claim('one-claimer', 4, 60_000), []);
    });

    test('a started runner runs a job queued in its process at once', async () => {
      const r = createJobRunner({ store: store(), pollMs: 60_000 });
      let done!: () => void;
      const ran = new Promise<void>((resolve) => (done = resolve));
      r.register('t.wake', async () => done());
      r.start();
      // Let the loop reach its idle wait (it found nothing due).
      await new Promise((resolve) => setTimeout(resolve, 100));
      const t0 = Date.now();
      await r.enqueuer.enqueue({ kind: 't.wake', payload: {}, runAt: 0 });
      await ran;
      assert.ok(Date.now() - t0 < 5_000);
      await r.stop();
    });

    test('a started runner gives the event loop a turn between claims of a long queue', async () => {
      const r = createJobRunner({ store: store(), pollMs: 60_000 });
      let ran = 0;
      let all!: () => void;
      const finished = new Promise<void>((resolve) => (all = resolve));
      r.register('t.many', async () => {
        if (++ran === 120) all();
      });
      for (let i = 0; i < 120; i++)
        await r.enqueuer.enqueue({ kind: 't.many', payload: { i }, runAt: 0 });
      // On SQLite every query completes at once: without turns, the whole queue would be worked
      // through before a callback of the next turn runs.
      let turns = 0;
      let ranAtFirstTurn: number | undefined;
      const tick = () => {
        turns += 1;
        ranAtFirstTurn ??= ran;
        if (ran < 120) setImmediate(tick);
      };
      r.start();
      setImmediate(tick);
      await finished;
      await r.stop();
      assert.ok(ranAtFirstTurn! < 120, `all ${ranAtFirstTurn} jobs ran before the first turn`);
      assert.ok(turns >= 10, `${turns} turns while 120 jobs ran`);
    });

    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    const get = async (url: string, token?: string) =>
      h.inject({ method: 'GET', url, headers: bearer(token ?? (await h.login())) });
    const retry = async (id: string, token?: string) =>
      h.inject({
        method: 'POST',
        url: `/api/v1/jobs/${id}:retry`,
        headers: bearer(token ?? (await h.login())),
      });

    test('GET /api/v1/jobs lists jobs newest first, by state and kind, page by page', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await store().enqueue({ kind: i % 2 ? 't.odd' : 't.even', payload: { i } }))!);
        clock += 1_000;
      }
      const r = runner();
      r.register('t.even', async () => undefined);
      r.register('t.odd', async () => {
        throw new Error('odd');
      });
      await r.drain();
      const all = await get('/api/v1/jobs');
      assert.equal(all.statusCode, 200, all.body);
      const body = all.json() as { items: Record<string, unknown>[]; next_cursor: string | null };
      assert.deepEqual(
        body.items.map((j) => j.id),
        [...ids].reverse(),
      );
      assert.equal(body.next_cursor, null);
      const first = body.items[0]!;
      assert.deepEqual(Object.keys(first).sort(), [
        'attempts',
        'created_at',
        'finished_at',
        'id',
        'kind',
        'last_error',
        'max_attempts',
        'run_at',
        'state',
        'updated_at',
      ]);
      assert.equal(first.created_at, new Date(clock - 1_000).toISOString());
      const odd = (await get('/api/v1/jobs?kind=t.odd&state=queued')).json() as typeof body;
      assert.deepEqual(
        odd.items.map((j) => [j.id, j.last_error, j.attempts]),
        [
          [ids[3], 'odd', 1],
          [ids[1], 'odd', 1],
        ],
      );
      const succeeded = (await get('/api/v1/jobs?state=succeeded')).json() as typeof body;
      assert.equal(succeeded.items.length, 3);
      // Pages of two, following the cursor, give the same list.
      const seen: unknown[] = [];
      let url = '/api/v1/jobs?limit=2';
      for (;;) {
        const page = (await get(url)).json() as typeof body;
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((j) => j.id));
        if (!page.next_cursor) break;
        url = `/api/v1/jobs?limit=2&cursor=${encodeURIComponent(page.next_cursor)}`;
      }
      assert.deepEqual(seen, [...ids].reverse());
      const one = await get(`/api/v1/jobs/${ids[0]}`);
      assert.equal(one.statusCode, 200);
      assert.deepEqual(one.json().payload, { i: 0 });
      assert.equal(one.json().state, 'succeeded');
    });

    test('bad queries and unknown jobs get 400 and 404', async () => {
      for (const q of [
        'state=bogus',
        'limit=0',
        'limit=1001',
        'limit=x',
        'cursor=forged',
        'other=1',
      ]) {
        const res = await get(`/api/v1/jobs?${q}`);
        assert.equal(res.statusCode, 400, `${q}: ${res.body}`);
      }
      assert.equal(
        (await get('/api/v1/jobs?cursor=forged')).json().error.code,
        'pagination.cursor_invalid',
      );
      const missing = await get('/api/v1/jobs/no-such-job');
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().error.code, 'job.not_found');
      assert.equal((await retry('no-such-job')).statusCode, 404);
    });

    test('a dead job retried by hand runs again and succeeds; audited', async () => {
      const r = runner();
      let fail = true;
      r.register('t.later', async () => {
        if (fail) throw new Error('endpoint down');
      });
      const id = (await r.enqueuer.enqueue({ kind: 't.later', payload: {}, maxAttempts: 2 }))!;
      await r.drain();
      clock += 3_600_000;
      await r.drain();
      assert.equal((await row(id)).state, 'dead');
      const res = await retry(id);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().state, 'queued');
      assert.equal(res.json().attempts, 0);
      assert.equal(res.json().run_at, new Date(clock).toISOString());
      fail = false;
      assert.equal(await r.drain(), 1);
      const j = await row(id);
      assert.equal(j.state, 'succeeded');
      assert.equal(j.attempts, 1);
      const audit = await h.vigil.db.kysely
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'job.retry')
        .where('resource_id', '=', id)
        .execute();
      assert.equal(audit.length, 1);
    });

    test('retrying a running, succeeded or never-failed job is 409 job.not_retryable', async () => {
      const fresh = (await store().enqueue({ kind: 't.x', payload: {}, runAt: clock + 60_000 }))!;
      const running = (await store().enqueue({ kind: 't.x', payload: {} }))!;
      await store().claim('w', 1, 60_000);
      const done = (await store().enqueue({ kind: 't.y', payload: {} }))!;
      const r = runner();
      r.register('t.y', async () => undefined);
      await r.drain();
      assert.equal((await row(done)).state, 'succeeded');
      for (const id of [fresh, running, done]) {
        const res = await retry(id);
        assert.equal(res.statusCode, 409, res.body);
        assert.equal(res.json().error.code, 'job.not_retryable');
      }
      assert.equal((await row(running)).state, 'running', 'unchanged');
      // A dead job whose dedup key a newer job holds stays dead: the newer one does the work.
      const r2 = runner();
      r2.register('t.k', async () => {
        throw new Error('down');
      });
      const old = (await r2.enqueuer.enqueue({
        kind: 't.k',
        payload: {},
        dedupKey: 'deliver-1',
        maxAttempts: 1,
      }))!;
      await r2.drain();
      assert.equal((await row(old)).state, 'dead');
      assert.ok(await store().enqueue({ kind: 't.k', payload: {}, dedupKey: 'deliver-1' }));
      const res = await retry(old);
      assert.equal(res.statusCode, 409, res.body);
      assert.equal(res.json().error.code, 'job.not_retryable');
      assert.equal((await row(old)).state, 'dead');
    });

    test('jobs:read lists, jobs:write retries; others are refused', async () => {
      const viewer = await h.userWithRoles(`viewer-${kind.name}`, ['viewer']);
      assert.equal((await get('/api/v1/jobs', viewer)).statusCode, 200);
      const id = (await store().enqueue({ kind: 't.z', payload: {} }))!;
      assert.equal((await retry(id, viewer)).statusCode, 403);
      const admin = await h.login();
      const role = await h.inject({
        method: 'POST',
        url: '/api/v1/roles',
        headers: bearer(admin),
        payload: { name: `no-jobs-${kind.name}`, permissions: ['alerts:read'] },
      });
      assert.equal(role.statusCode, 201, role.body);
      const other = await h.userWithRoles(`nojobs-${kind.name}`, [`no-jobs-${kind.name}`]);
      assert.equal((await get('/api/v1/jobs', other)).statusCode, 403);
      assert.equal((await get(`/api/v1/jobs/${id}`, other)).statusCode, 403);
      assert.equal((await h.inject({ method: 'GET', url: '/api/v1/jobs' })).statusCode, 401);
    });

    test('a purge deletes succeeded jobs after 7 days and dead ones after 30', async () => {
      const r = runner();
      r.register('t.keep', async () => undefined);
      r.register('t.die', async () => {
        throw new Error('no');
      });
      const ok = (await r.enqueuer.enqueue({ kind: 't.keep', payload: {} }))!;
      const dead = (await r.enqueuer.enqueue({ kind: 't.die', payload: {}, maxAttempts: 1 }))!;
      await r.drain();
      const queued = (await store().enqueue({ kind: 't.wait', payload: {}, runAt: clock + 1e12 }))!;
      const t0 = clock;
      const purge = async (at: number) => {
        clock = at;
        await h.vigil.db.kysely
          .transaction()
          .execute((trx) =>
            createJobStore(trx, now).purge(at - 7 * 86_400_000, at - 30 * 86_400_000),
          );
      };
      await purge(t0 + 7 * 86_400_000);
      assert.ok(await store().get(ok), 'kept at exactly 7 days');
      await purge(t0 + 7 * 86_400_000 + 1);
      assert.equal(await store().get(ok), undefined);
      assert.ok(await store().get(dead));
      await purge(t0 + 30 * 86_400_000 + 1);
      assert.equal(await store().get(dead), undefined);
      assert.ok(await store().get(queued), 'an unfinished job stays');
    });

    test('one of two candidates leads; leadership passes on when the leader gives it up', async () => {
      const db = h.vigil.db.kysely;
      const a = createLeaderElection(db, { holder: 'a', leaseMs: 6_000, now });
      const b = createLeaderElection(db, { holder: 'b', leaseMs: 6_000, now });
      assert.equal(await a.tick(), true);
      assert.equal(await b.tick(), false);
      assert.equal(await a.tick(), true, 'renewed');
      assert.equal(a.isLeader() && !b.isLeader(), true);
      await a.release();
      assert.equal(a.isLeader(), false);
      assert.equal(await b.tick(), true);
      assert.equal(await a.tick(), false);
      if (kind.name === 'sqlite') {
        // A leader that stops renewing loses its lease once it expires.
        clock += 6_001;
        assert.equal(b.isLeader(), false);
        assert.equal(await a.tick(), true);
        assert.equal(await b.tick(), false);
        await a.release();
      }
      await b.release();
    });

    test('a period of a cluster job is claimed once', async () => {
      const runs = createPeriodicRunStore(h.vigil.db.kysely, now);
      assert.equal(await runs.claim('t.p', 100, 'a'), true);
      assert.equal(await runs.claim('t.p', 100, 'b'), false);
      assert.equal(await runs.claim('t.p', 99, 'b'), false);
      assert.equal(await runs.claim('t.p', 101, 'b'), true);
      const [rec] = (await runs.list()).filter((r) => r.name === 't.p');
      assert.deepEqual([rec?.last_period, rec?.runs, rec?.last_holder], [101, 2, 'b']);
    });

    test('two schedulers run a cluster job once per period, on the leader', async () => {
      const db = h.vigil.db.kysely;
      const periods: number[] = [];
      const who: string[] = [];
      const everyMs = 150;
      const logger = pino({ level: 'silent' });
      const schedulers = ['s1', 's2'].map((holder) => {
        const runs = createPeriodicRunStore(db, Date.now);
        return startJobs(
          logger,
          [
            {
              name: `t.cluster-${kind.name}`,
              everyMs,
              scope: 'cluster',
              run: async () => {
                periods.push(Math.floor(Date.now() / everyMs));
                who.push(holder);
              },
            },
          ],
          {
            leader: createLeaderElection(db, { holder, leaseMs: 3_000, now: Date.now }),
            claim: (name, period) => runs.claim(name, period, holder),
          },
        );
      });
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      await Promise.all(schedulers.map((s) => s.stop()));
      assert.ok(periods.length >= 6, `ran ${periods.length} times`);
      assert.equal(new Set(periods).size, periods.length, 'no period twice');
      assert.equal(new Set(who).size, 1, 'only the leader ran it');
    });
  });
}
