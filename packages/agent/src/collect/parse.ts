/** A parser's complaint about malformed kernel text, naming the file. */
export class ParseError extends Error {
  override name = 'ParseError';
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
  }
}

/** Parses a whole non-negative decimal number, or throws naming the file and field. */
export function uint(text: string | undefined, file: string, field: string): number {
  if (text === undefined || !/^\d+$/.test(text))
    throw new ParseError(file, `${field} is not a whole number: ${JSON.stringify(text)}`);
  return Number(text);
}

/** Splits text into trimmed non-empty lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Rounds to `digits` decimals, as the openITCOCKPIT agent reports percentages and rates. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `part / whole * 100`, or 0 when the whole is 0. */
export function percent(part: number, whole: number): number {
  return whole > 0 ? (part / whole) * 100 : 0;
}
