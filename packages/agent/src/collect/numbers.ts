/** Rounds to `digits` decimals, as the openITCOCKPIT agent reports percentages and rates. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `part / whole * 100`, or 0 when the whole is 0. */
export function percent(part: number, whole: number): number {
  return whole > 0 ? (part / whole) * 100 : 0;
}
