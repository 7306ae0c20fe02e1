import type { Severity } from '../model.js';

/** Days from `now` to `notAfter` (both epoch ms), fractional. */
export const daysLeft = (notAfter: number, now: number): number => (notAfter - now) / 86_400_000;

/**
 * The severity of an agent certificate expiring: critical within `critical` days (or expired),
 * warning within `warning` days, else null. A null threshold is not checked.
 */
export function certSeverity(
  notAfter: number,
  now: number,
  t: { warning: number | null; critical: number | null },
): Severity | null {
  const left = daysLeft(notAfter, now);
  if (t.critical !== null && left <= t.critical) return 'critical';
  if (t.warning !== null && left <= t.warning) return 'warning';
  return null;
}
