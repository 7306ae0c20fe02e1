import type { AlertState, Severity } from './queries';

/** An alert's severity as a coloured word. */
export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span className={`badge alert-sev-${severity}`}>{severity}</span>;
}

/** An alert's state as a coloured word: open ones stand out, closed ones are quiet. */
export function StateBadge({ state }: { state: AlertState }) {
  return <span className={`badge alert-state-${state}`}>{state}</span>;
}
