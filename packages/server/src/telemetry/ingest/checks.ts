/**
 * Check results as Nagios keeps them: a state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) that is
 * SOFT while a problem has been seen fewer than `max_check_attempts` times in a row, and HARD
 * once it has (or at once for OK, and for a change between problems that were already HARD).
 * Only a new execution of the plugin counts as an attempt: an agent repeats its latest result in
 * every document until the check runs again.
 */

/** The Nagios state names by return code. */
export const STATE_NAMES = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/** The state of one check of one host. */
export interface CheckState {
  state: number;
  stateType: 'soft' | 'hard';
  attempt: number;
  /** The last hard state (what notifications would be about). */
  hardState: number;
  /** When the plugin last ran (epoch ms). */
  lastCheck: number;
  lastStateChange: number;
  lastHardChange: number;
  output: string;
  perfdata: string;
}

/** One execution of a check as a document reports it. */
export interface CheckRun {
  /** The plugin's exit code; anything but 0–3 counts as UNKNOWN. */
  rc: number;
  /** When it ran (epoch ms). */
  at: number;
  output: string;
  perfdata: string;
}

/**
 * The state after a run. Returns undefined when the run is not newer than the last one seen
 * (nothing to record); `changed` tells whether the state or its type changed (a history entry).
 */
export function nextCheckState(
  prev: CheckState | undefined,
  run: CheckRun,
  maxAttempts: number,
): { state: CheckState; changed: boolean } | undefined {
  if (prev && run.at <= prev.lastCheck) return undefined;
  const observed = Number.isInteger(run.rc) && run.rc >= 0 && run.rc <= 3 ? run.rc : 3;
  const base = { lastCheck: run.at, output: run.output, perfdata: run.perfdata };
  if (!prev) {
    const hard = observed === 0 || maxAttempts <= 1;
    const state: CheckState = {
      ...base,
      state: observed,
      stateType: hard ? 'hard' : 'soft',
      attempt: 1,
      hardState: hard ? observed : 0,
      lastStateChange: run.at,
      lastHardChange: run.at,
    };
    return { state, changed: true };
  }
  let next: CheckState;
  if (observed === 0) {
    // Recovery, or still OK: OK is always hard.
    next = {
      ...prev,
      ...base,
      state: 0,
      stateType: 'hard',
      attempt: 1,
      hardState: 0,
      lastStateChange: prev.state === 0 ? prev.lastStateChange : run.at,
      lastHardChange: prev.hardState === 0 ? prev.lastHardChange : run.at,
    };
  } else if (prev.stateType === 'hard' && prev.state !== 0) {
    // A problem that is already hard stays hard; a different problem is a hard change.
    next = {
      ...prev,
      ...base,
      state: observed,
      attempt: maxAttempts,
      hardState: observed,
      lastStateChange: observed === prev.state ? prev.lastStateChange : run.at,
      lastHardChange: observed === prev.hardState ? prev.lastHardChange : run.at,
    };
  } else {
    // A problem being confirmed: one more attempt, hard when they are used up.
    const attempt = prev.state === 0 ? 1 : prev.attempt + 1;
    const hard = attempt >= maxAttempts;
    next = {
      ...prev,
      ...base,
      state: observed,
      stateType: hard ? 'hard' : 'soft',
      attempt: Math.min(attempt, maxAttempts),
      hardState: hard ? observed : prev.hardState,
      lastStateChange: observed === prev.state ? prev.lastStateChange : run.at,
      lastHardChange: hard && prev.hardState !== observed ? run.at : prev.lastHardChange,
    };
  }
  const changed = next.state !== prev.state || next.stateType !== prev.stateType;
  return { state: next, changed };
}
