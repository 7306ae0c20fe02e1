import { VigilError } from '../errors.js';

/** The longest a person may silence an alert for, or a silence may last: a year. */
export const MAX_SILENCE_MS = 366 * 86_400_000;

/**
 * Parses an ISO 8601 date-time of a filter or body (epoch ms).
 * @throws VigilError bad_data naming the field.
 */
export function parseTime(field: string, v: string): number {
  const t = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\dT/.test(v) || !Number.isFinite(t))
    throw new VigilError('bad_data', `${field}: must be an ISO 8601 date-time`, {
      code: 'validation_failed',
    });
  return t;
}
