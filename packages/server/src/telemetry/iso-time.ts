/** The latest and earliest times a JavaScript `Date` can hold, in epoch milliseconds. */
export const MAX_DATE_MS = 8_640_000_000_000_000;

/**
 * A stored time (epoch ms) as RFC 3339 text, or null when it is no time a `Date` can hold (NaN,
 * an infinity, a figure past ±8.64e15, text). Stored rows are written by older versions and by
 * hand too: an answer must not fail on one of them as `toISOString` would, with a RangeError.
 */
export function isoOrNull(ms: unknown): string | null {
  const t = typeof ms === 'string' && ms.trim() !== '' ? Number(ms) : ms;
  if (typeof t !== 'number' || !Number.isFinite(t) || Math.abs(t) > MAX_DATE_MS) return null;
  return new Date(t).toISOString();
}
