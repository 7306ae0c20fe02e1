import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { backoffMs, createJobRunner, type RunningJob } from '../src/jobs/runner.js';
import { createJobStore } from '../src/jobs/store.js';
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
      for (const [i, batch] of batches.entries())
        for (const j of batch) assert.equal(j.locked_by, `claimer-${i}`);
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
  });
}
