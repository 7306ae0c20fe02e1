import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

/**
 * Leadership of periodic cluster work among the processes sharing one database: at most one
 * process is the leader at a time (a lease may outlive a stalled leader by its length on SQLite,
 * which the run records in `periodic_runs` make harmless).
 */
export interface LeaderElection {
  /** The id of this process as a candidate. */
  readonly holder: string;
  /** Whether this process leads now, as of the last `tick`. */
  isLeader(): boolean;
  /**
   * Tries to become or stay the leader; resolves whether it leads. Call it about every
   * `renewMs`. Never throws: a database error means not leading.
   */
  tick(): Promise<boolean>;
  /** Gives leadership up (at once, for another process to take). */
  release(): Promise<void>;
  /** How often `tick` should be called. */
  readonly renewMs: number;
}

/** The advisory lock key of leadership: the bytes of "vigil" and 1, as a 64-bit number. */
const LOCK_KEY = String(0x766967696c01);

/**
 * Leadership on PostgreSQL: `pg_try_advisory_lock` on one connection reserved from the pool for
 * as long as this process leads. The lock belongs to that connection's session, so a lost
 * connection (or a dead process) is lost leadership; each `tick` checks the connection answers.
 */
function postgresElection(db: Kysely<Database>, holder: string, renewMs: number): LeaderElection {
  let leading = false;
  let held: Promise<void> | undefined;
  let ping: ((ok: boolean) => void) | undefined;
  // What the holding connection is asked to do next; set before `wake`, so that a request made
  // while it is busy is seen when it looks again.
  let pingWanted = false;
  let releaseWanted = false;
  let wake: (() => void) | undefined;

  const hold = () =>
    new Promise<boolean>((acquired) => {
      held = db
        .connection()
        .execute(async (conn) => {
          const r = await sql<{
            ok: boolean;
          }>`select pg_try_advisory_lock(${LOCK_KEY}::bigint) as ok`.execute(conn);
          if (!r.rows[0]?.ok) return acquired(false);
          leading = true;
          acquired(true);
          try {
            for (;;) {
              while (!pingWanted && !releaseWanted)
                await new Promise<void>((resolve) => (wake = resolve));
              if (releaseWanted) {
                await sql`select pg_advisory_unlock(${LOCK_KEY}::bigint)`.execute(conn);
                return;
              }
              pingWanted = false;
              try {
                await sql`select 1`.execute(conn);
                ping?.(true);
              } catch {
                ping?.(false);
                return;
              }
            }
          } finally {
            leading = false;
          }
        })
        .catch(() => acquired(false))
        .finally(() => {
          leading = false;
          held = undefined;
        });
    });

  return {
    holder,
    renewMs,
    isLeader: () => leading,
    async tick() {
      if (!held) {
        releaseWanted = false;
        return hold();
      }
      // The pool answers too: once it is closing (the process shuts down, or its database is
      // being closed), leadership and its connection are given back, so the close can finish.
      try {
        await sql`select 1`.execute(db);
      } catch {
        const done = held;
        releaseWanted = true;
        wake?.();
        await done;
        return false;
      }
      const answered = new Promise<boolean>((resolve) => (ping = resolve));
      pingWanted = true;
      wake?.();
      const ok = await Promise.race([
        answered,
        new Promise<boolean>((r) => setTimeout(() => r(false), renewMs).unref()),
      ]);
      return ok && leading;
    },
    async release() {
      if (!held) return;
      const done = held;
      releaseWanted = true;
      wake?.();
      await done;
    },
  };
}

/**
 * Leadership on SQLite: the `job_leases` row `leader`, held by its holder until `expires_at`,
 * renewed each `tick` (every third of the lease) and taken over once expired.
 */
function leaseElection(
  db: Kysely<Database>,
  holder: string,
  leaseMs: number,
  now: () => number,
): LeaderElection {
  let leadingUntil = 0;
  return {
    holder,
    renewMs: Math.max(100, Math.floor(leaseMs / 3)),
    isLeader: () => now() < leadingUntil,
    async tick() {
      const t = now();
      try {
        const r = await db
          .insertInto('job_leases')
          .values({ name: 'leader', holder, expires_at: t + leaseMs, renewed_at: t })
          .onConflict((oc) =>
            oc
              .column('name')
              .doUpdateSet({ holder, expires_at: t + leaseMs, renewed_at: t })
              .where((eb) =>
                eb.or([eb('job_leases.holder', '=', holder), eb('job_leases.expires_at', '<', t)]),
              ),
          )
          .executeTakeFirst();
        leadingUntil = Number(r.numInsertedOrUpdatedRows ?? 0) > 0 ? t + leaseMs : 0;
      } catch {
        leadingUntil = 0;
      }
      return now() < leadingUntil;
    },
    async release() {
      leadingUntil = 0;
      await db
        .deleteFrom('job_leases')
        .where('name', '=', 'leader')
        .where('holder', '=', holder)
        .execute()
        .catch(() => undefined);
    },
  };
}

/**
 * The leader election of this process on `db`: an advisory lock on PostgreSQL, a lease row of
 * `leaseMs` on SQLite.
 */
export function createLeaderElection(
  db: Kysely<Database>,
  opts: { holder: string; leaseMs: number; now: () => number },
): LeaderElection {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? postgresElection(db, opts.holder, Math.min(5_000, opts.leaseMs / 3))
    : leaseElection(db, opts.holder, opts.leaseMs, opts.now);
}

/**
 * The records of cluster periodic runs (`periodic_runs`): `claim` advances a job's last period
 * to `period` only if it was before it, so one process of all runs that period.
 */
export const createPeriodicRunStore = (db: Kysely<Database>, now: () => number) => ({
  /** Claims `period` of job `name` for `holder`; true when this call got it. */
  async claim(name: string, period: number, holder: string): Promise<boolean> {
    await db
      .insertInto('periodic_runs')
      .values({ name, last_period: -1, runs: 0, last_run_at: null, last_holder: null })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const r = await db
      .updateTable('periodic_runs')
      .set((eb) => ({
        last_period: period,
        runs: eb('runs', '+', 1),
        last_run_at: now(),
        last_holder: holder,
      }))
      .where('name', '=', name)
      .where('last_period', '<', period)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  /** Every job's record, for operators and tests. */
  async list() {
    return db.selectFrom('periodic_runs').selectAll().orderBy('name').execute();
  },
});

/** The records of cluster periodic runs. */
export type PeriodicRunStore = ReturnType<typeof createPeriodicRunStore>;
