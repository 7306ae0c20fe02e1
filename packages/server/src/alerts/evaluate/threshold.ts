import type { Severity } from '../model.js';
import { breaches, severityOf, type Comparator } from '../rules.js';

/** What one threshold condition needs to be judged: its rule's settings for its host. */
export interface ThresholdSpec {
  comparator: Comparator;
  warning: number | null;
  critical: number | null;
  /** Where a firing condition clears (hysteresis); null: as soon as nothing is breached. */
  recovery: number | null;
  forMs: number;
  keepFiringForMs: number;
}

/**
 * The state of one condition (a rule on a host for one series). `pending`: breached since
 * `since`, waiting for `for`; `firing`: its alert is open at `severity`; `clearingSince`: the
 * value got back past the recovery then, and `keep_firing_for` is running.
 */
export type ThresholdState =
  | { phase: 'pending'; since: number; severity: Severity; lastSeen: number; value: number }
  | {
      phase: 'firing';
      severity: Severity;
      clearingSince: number | null;
      lastSeen: number;
      value: number;
    };

/** What the evaluator must tell the sink after a step. */
export type ThresholdAction =
  { type: 'none' } | { type: 'fire'; severity: Severity } | { type: 'clear' };

/** The result of one step: the next state (undefined: nothing to remember) and the action. */
export interface ThresholdStep {
  state: ThresholdState | undefined;
  action: ThresholdAction;
}

const NONE: ThresholdAction = { type: 'none' };

/**
 * One sample of a condition's series at `at` (epoch ms). A breach starts `pending`; once it has
 * lasted `for`, the condition fires (a single spike fires nothing). A firing condition stays
 * firing while the value has not got back past `recovery` (so values wobbling in the
 * hysteresis band resolve nothing), then keeps firing `keep_firing_for` more, then clears.
 * Severity is critical while the critical threshold is breached, else warning; a change of
 * severity while firing fires again, a repeat does nothing.
 */
export function stepThreshold(
  prev: ThresholdState | undefined,
  value: number,
  at: number,
  spec: ThresholdSpec,
): ThresholdStep {
  const severity = severityOf(spec.comparator, value, spec);
  if (prev === undefined || prev.phase === 'pending') {
    if (severity === null) return { state: undefined, action: NONE };
    const since = prev?.since ?? at;
    if (at - since >= spec.forMs)
      return {
        state: { phase: 'firing', severity, clearingSince: null, lastSeen: at, value },
        action: { type: 'fire', severity },
      };
    return { state: { phase: 'pending', since, severity, lastSeen: at, value }, action: NONE };
  }
  if (severity !== null) {
    const state: ThresholdState = {
      phase: 'firing',
      severity,
      clearingSince: null,
      lastSeen: at,
      value,
    };
    return {
      state,
      action: severity === prev.severity ? NONE : { type: 'fire', severity },
    };
  }
  const held = spec.recovery !== null && breaches(spec.comparator, value, spec.recovery);
  if (held) return { state: { ...prev, clearingSince: null, lastSeen: at, value }, action: NONE };
  const clearingSince = prev.clearingSince ?? at;
  if (at - clearingSince >= spec.keepFiringForMs)
    return { state: undefined, action: { type: 'clear' } };
  return { state: { ...prev, clearingSince, lastSeen: at, value }, action: NONE };
}

/**
 * What time alone does to a condition when no sample came: a `keep_firing_for` that has run
 * out clears it; a pending condition whose series fell silent for `staleMs` is forgotten.
 */
export function tickThreshold(
  prev: ThresholdState,
  at: number,
  spec: Pick<ThresholdSpec, 'keepFiringForMs'>,
  staleMs: number,
): ThresholdStep {
  if (prev.phase === 'pending')
    return at - prev.lastSeen >= staleMs
      ? { state: undefined, action: NONE }
      : { state: prev, action: NONE };
  if (prev.clearingSince !== null && at - prev.clearingSince >= spec.keepFiringForMs)
    return { state: undefined, action: { type: 'clear' } };
  return { state: prev, action: NONE };
}
