import type { CheckData, CollectorError } from './checkdata.js';

// The contract between the agent's collection cycle and its collectors. Types only: the agent
// imports them from the index without loading a schema.

/**
 * The value a collector returns for the section `K` of the check-data document: the section's
 * data, never the error marker, which only the runner writes.
 */
export type Collected<K extends keyof CheckData> = Exclude<
  NonNullable<CheckData[K]>,
  CollectorError
>;

/**
 * What a collector gets for one cycle. `Host` is the agent's view of the machine (the roots of
 * /proc, /sys and /, a program runner, statfs); it is injected, never a global, so that tests
 * point it at fixture trees.
 */
export interface CollectCycle<Host> {
  readonly host: Host;
  /** The cycle's time (ms since the epoch); every rate of the cycle uses this one instant. */
  readonly nowMs: number;
  /** The configured collection interval in seconds. */
  readonly intervalSeconds: number;
}

/**
 * One source of the check-data document, filling the section `K`. `collect` returns the
 * section's value, or undefined to leave the key out (a source this machine does not have). It
 * throws when the source failed; the runner then puts `{"error": message}` (`CollectorError`)
 * under the key and goes on with the others. The runner times every call and records whether it
 * succeeded (`CollectorOutcome`). A collector keeps what it needs between cycles (previous
 * counters for rates) in its own closure, so each instance belongs to one runner.
 */
export interface Collector<K extends keyof CheckData, Host = unknown> {
  /** The document key this collector fills. */
  readonly key: K;
  /** The agent's `config.ini` switch that turns it off, when it has one. */
  readonly toggle?: string;
  collect(cycle: CollectCycle<Host>): Promise<Collected<K> | undefined>;
}

/** How one collector did in a cycle, as the runner records it. */
export interface CollectorOutcome {
  /** The document key of the collector. */
  readonly key: string;
  /** False when `collect` threw; its key then holds `{"error": …}`. */
  readonly ok: boolean;
  /** How long `collect` took, in milliseconds. */
  readonly durationMs: number;
  /** The message of what `collect` threw. */
  readonly error?: string;
}
