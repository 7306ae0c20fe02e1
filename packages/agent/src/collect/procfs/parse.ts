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
