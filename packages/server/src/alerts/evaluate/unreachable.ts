import type { Severity } from '../model.js';

/** What the connectivity worker last found for a host, as the `host_unreachable` rule reads it. */
export interface Liveness {
  state: 'reachable' | 'unreachable';
  consecutive_failures: number;
}

/**
 * The severity of a host's liveness: unreachable is critical once the connectivity worker
 * failed `failures` probes in a row (the rule's `params.failures`, default 1); reachable clears.
 */
export function unreachableSeverity(l: Liveness, failures = 1): Severity | null {
  return l.state === 'unreachable' && l.consecutive_failures >= failures ? 'critical' : null;
}
