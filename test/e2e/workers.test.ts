import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { createJobStore } from '../../packages/server/src/jobs/store.js';
import { databaseKinds } from '../support/databases.js';
import { startWorker, type WorkerRun } from '../support/process.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-workers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a value, or fails after `ms`. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// Advisory-lock leadership is PostgreSQL's; the SQLite lease is covered by jobs.test.ts.
for (const kind of (await databaseKinds()).filter((k) => k.name === 'postgres')) {
  describe(`two vigil worker processes on ${kind.name}`, () => {
    test('run a cluster job once per period, and hand leadership over when one stops', async () => {
      const created = await kind.create();
      const workers: WorkerRun[] = [];
      try {
        const env: Record<string, string> = {
          VIGIL_STORAGE_DATA_DIR: mkdtempSync(path.join(tmp, 'data-')),
          VIGIL_DATABASE_URL: created.url!,
          VIGIL_JOBS_PURGE_INTERVAL_SECONDS: '1',
          VIGIL_JOBS_LEADER_LEASE_SECONDS: '3',
          VIGIL_LOG_LEVEL: 'warn',
        };
        // One after the other: the first creates the data directory's keys and CA.
        workers.push(await startWorker(env));
        workers.push(await startWorker(env));
        const [w1, w2] = workers as [WorkerRun, WorkerRun];
        assert.notEqual(w1.workerId, w2.workerId);
        const record = () =>
          created.db.kysely
            .selectFrom('periodic_runs')
            .selectAll()
            .where('name', '=', 'jobs-purge')
            .executeTakeFirst();
        // Runs and periods over a window: each period that passed ran once.
        const window = async (ms: number) => {
          const a = await until('a first run', record);
          await sleep(ms);
          const b = (await record())!;
          return {
            periods: b.last_period - a.last_period,
            runs: b.runs - a.runs,
            holder: b.last_holder,
          };
        };
        const first = await window(5_000);
        assert.ok(first.periods >= 3, `${first.periods} periods passed`);
        assert.equal(first.runs, first.periods, 'one run per period across both processes');
        const leader = first.holder === w1.workerId ? w1 : w2;
        const follower = leader === w1 ? w2 : w1;
        assert.ok([w1.workerId, w2.workerId].includes(first.holder!));

        // A job queued in the database is claimed by a worker; no handler takes this kind.
        const id = (await createJobStore(created.db.kysely).enqueue({
          kind: 'test.unhandled',
          payload: {},
          maxAttempts: 1,
        }))!;
        const dead = await until('the job to be dead', async () => {
          const j = await createJobStore(created.db.kysely).get(id);
          return j?.state === 'dead' ? j : undefined;
        });
        assert.match(
          dead.last_error!,
          /no handler is registered for jobs of kind 'test\.unhandled'/,
        );

        assert.equal(await leader.stop(), 0, 'a worker stops cleanly on SIGTERM');
        await until('the other worker to lead', async () =>
          (await record())?.last_holder === follower.workerId ? true : undefined,
        );
        const second = await window(4_000);
        assert.ok(second.periods >= 2, `${second.periods} periods passed`);
        assert.equal(second.runs, second.periods);
        assert.equal(second.holder, follower.workerId);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
        await created.drop();
      }
    });
  });
}
