/** A JSON value as configuration objects keep it in `vars` and properties. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Reads what an operator typed as a value: JSON when it parses (`80`, `true`, `["a","b"]`,
 * `{"k":1}`, `"quoted"`), otherwise the text itself as a string.
 */
export function parseValue(text: string): Json {
  const t = text.trim();
  if (t === '') return '';
  try {
    return JSON.parse(t) as Json;
  } catch {
    return text;
  }
}

/**
 * Writes a value for editing so that `parseValue` reads it back unchanged: a string that would
 * parse as something else (`"80"`, `"true"`) keeps its quotes; any other string is shown bare.
 */
export function valueText(value: Json | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') {
    const bare = parseValue(value);
    return typeof bare === 'string' && bare === value ? value : JSON.stringify(value);
  }
  return JSON.stringify(value);
}

/** A short one-line rendering of a value for tables and previews. */
export function shortValue(value: Json | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A JSON text of `value` with object keys sorted: equal configurations give equal texts. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v as Record<string, unknown>)
            .sort()
            .map((k) => [k, (v as Record<string, unknown>)[k]]),
        )
      : v,
  );
}
