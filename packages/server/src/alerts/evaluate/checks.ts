import type { Severity } from '../model.js';

/** A check's state in a result, as Nagios numbers them: OK, WARNING, CRITICAL, UNKNOWN. */
export type CheckCode = 0 | 1 | 2 | 3;

/**
 * The severity of a check's hard state: WARNING and UNKNOWN warn, CRITICAL is critical; null
 * for OK. A soft state never counts (its attempts are not used up yet).
 */
export function checkSeverity(
  state: number,
  stateType: 'soft' | 'hard',
): Severity | null | undefined {
  if (stateType !== 'hard') return undefined;
  if (state === 0) return null;
  return state === 2 ? 'critical' : 'warning';
}

/** How many results flap detection looks at, as Nagios. */
export const FLAP_HISTORY = 21;

/** The percent state change above which a check starts flapping, and below which it stops. */
export const FLAP_START = 50;
export const FLAP_STOP = 25;

/**
 * Nagios' percent state change of a check's last results (oldest first, at most 21): each of
 * the 20 changes between consecutive results is weighted from 0.75 (oldest) to 1.25 (newest),
 * and the sum is taken over the 20 possible changes.
 */
export function percentStateChange(states: readonly number[]): number {
  const h = states.slice(-FLAP_HISTORY);
  // The newest change weighs 1.25; with fewer results the weights are those of the newest ones.
  const offset = FLAP_HISTORY - h.length;
  let curved = 0;
  for (let i = 1; i < h.length; i++) {
    if (h[i] === h[i - 1]) continue;
    const x = i + offset + 1; // Nagios' x, 2..21
    curved += 0.75 + (x - 2) * (0.5 / (FLAP_HISTORY - 2));
  }
  return (curved * 100) / (FLAP_HISTORY - 1);
}

/** A check's flap detection state: its last results and whether it is flapping. */
export interface FlapState {
  states: number[];
  flapping: boolean;
  percent: number;
}

/**
 * Adds a result to a check's history and judges it: flapping starts when the percent state
 * change goes above `FLAP_START` and stops when it drops below `FLAP_STOP` (in between it
 * stays as it was).
 */
export function stepFlapping(prev: FlapState | undefined, state: number): FlapState {
  const states = [...(prev?.states ?? []), state].slice(-FLAP_HISTORY);
  const percent = percentStateChange(states);
  let flapping = prev?.flapping ?? false;
  if (!flapping && percent > FLAP_START) flapping = true;
  else if (flapping && percent < FLAP_STOP) flapping = false;
  return { states, flapping, percent };
}
