import { ParseError } from './parse.js';

/** The 1, 5 and 15 minute load averages. */
export interface LoadSample {
  m1: number;
  m5: number;
  m15: number;
}

/** Parses /proc/loadavg (`0.21 0.37 0.39 1/719 19737`). */
export function parseLoadavg(text: string): LoadSample {
  const fields = text.trim().split(/\s+/);
  if (fields.length < 3) throw new ParseError('loadavg', 'fewer than 3 fields');
  const [m1, m5, m15] = fields.slice(0, 3).map(Number) as [number, number, number];
  if (![m1, m5, m15].every((v) => Number.isFinite(v) && v >= 0))
    throw new ParseError('loadavg', `not numbers: ${JSON.stringify(text.trim())}`);
  return { m1, m5, m15 };
}
