import { existsSync, readFileSync } from 'node:fs';
import type { CustomCheckResult } from '@vigil/protocol';
import { writeFileAtomic } from '../files.js';
import { CHECK_DEFAULTS } from './config.js';
import {
  admitDeployedSet,
  deployedSetOf,
  refusedResult,
  type DeployedSet,
  type RemoteChecksPolicy,
} from './deployed.js';
import type { RunLimits } from './runner.js';
import { startChecks, type CheckScheduler } from './scheduler.js';

/** The file beside config.ini that keeps the last deployed checks (mode 0600). */
export const DEPLOYED_CHECKS_FILE = 'deployed-checks.json';

/** How deployed checks run: what the agent allows, and the custom checks' names (they win). */
export interface RemoteChecksSettings {
  readonly policy: RemoteChecksPolicy;
  readonly customNames: ReadonlySet<string>;
  readonly concurrency: number;
  readonly limits: RunLimits;
}

/** The checks a Vigil server deployed to this host, running beside the custom checks. */
export interface RemoteChecks {
  /**
   * Takes the set a push answer named: a set with another checksum is stored and replaces the
   * running one (its checks start at once, so their results are in the next document); the same
   * checksum changes nothing. Never rejects.
   */
  apply(set: DeployedSet): Promise<void>;
  /** Runs the current set under new settings (after a reload of the configuration). */
  reconfigure(settings: RemoteChecksSettings): Promise<void>;
  /** The latest result of every deployed check: refused ones as UNKNOWN, saying why. */
  results(): Record<string, CustomCheckResult>;
  /** The checksum of the set in force ('' with none). */
  checksum(): string;
  /** Stops the runs and kills those in progress. */
  stop(): Promise<void>;
}

const EMPTY: DeployedSet = { checksum: '', checks: [] };

/**
 * Starts the deployed checks kept in `stateFile` (the last set a server sent, so that a restart
 * keeps running them until the next answer), and replaces them with each new set. Changes are
 * applied one at a time, in the order they arrive.
 */
export function startRemoteChecks(opts: {
  stateFile: string;
  settings: RemoteChecksSettings;
  log: (line: string) => void;
  now?: () => number;
}): RemoteChecks {
  const now = opts.now ?? Date.now;
  let settings = opts.settings;
  let set = load(opts.stateFile, opts.log);
  // Refused checks, with when they were refused and their interval: each is reported as if it
  // ran on its interval, so that the server's attempts count on as for any failing check.
  let refused: { name: string; reason: string; at: number; everyMs: number }[] = [];
  let scheduler: CheckScheduler | undefined;
  let stopped = false;
  let tail: Promise<void> = Promise.resolve();

  const start = () => {
    const admitted = admitDeployedSet(set, settings.policy, settings.customNames);
    const intervals = new Map(
      set.checks.map((c) => [c.name, c.interval_seconds ?? CHECK_DEFAULTS.intervalSeconds]),
    );
    refused = [];
    for (const a of admitted)
      if (!a.ok) {
        const everyMs = (intervals.get(a.name) ?? CHECK_DEFAULTS.intervalSeconds) * 1000;
        refused.push({ name: a.name, reason: a.reason, at: now(), everyMs });
        opts.log(`deployed check ${a.name} refused: ${a.reason}`);
      }
    const runnable = admitted.flatMap((a) => (a.ok ? [a.check] : []));
    scheduler =
      runnable.length === 0
        ? undefined
        : startChecks(runnable, { concurrency: settings.concurrency, limits: settings.limits });
  };
  const restart = async () => {
    await scheduler?.stop();
    scheduler = undefined;
    if (!stopped) start();
  };
  const serially = (fn: () => Promise<void>): Promise<void> => {
    tail = tail.then(fn).catch((err: unknown) => {
      opts.log(`deployed checks: ${(err as Error).message}`);
    });
    return tail;
  };
  start();

  return {
    apply: (next) =>
      serially(async () => {
        if (stopped || next.checksum === set.checksum) return;
        set = next;
        try {
          const kept = { checks_checksum: next.checksum, checks: next.checks };
          writeFileAtomic(opts.stateFile, `${JSON.stringify(kept)}\n`, { mode: 0o600 });
        } catch (err) {
          opts.log(
            `cannot keep the deployed checks in ${opts.stateFile}: ${(err as Error).message}`,
          );
        }
        opts.log(
          next.checksum === ''
            ? 'no deployment: deployed checks stop'
            : `deployment ${next.checksum}: ${next.checks.length} deployed checks`,
        );
        await restart();
      }),
    reconfigure: (next) =>
      serially(async () => {
        settings = next;
        await restart();
      }),
    results: () => {
      const t = now();
      const out: Record<string, CustomCheckResult> = {};
      for (const r of refused)
        out[r.name] = refusedResult(
          r.reason,
          r.at + Math.floor((t - r.at) / r.everyMs) * r.everyMs,
        );
      return { ...out, ...scheduler?.results() };
    },
    checksum: () => set.checksum,
    stop: () =>
      serially(async () => {
        stopped = true;
        await scheduler?.stop();
        scheduler = undefined;
      }),
  };
}

/** The set kept in `file`; none when the file is absent or damaged (then said in the log). */
function load(file: string, log: (line: string) => void): DeployedSet {
  if (!existsSync(file)) return EMPTY;
  try {
    const set = deployedSetOf(JSON.parse(readFileSync(file, 'utf8')));
    if (set) return set;
  } catch {
    // Reported below.
  }
  log(`${file} is damaged: no deployed checks until the server's next answer`);
  return EMPTY;
}
