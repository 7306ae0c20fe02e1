/** Rows per multi-row INSERT: well under SQLite's and PostgreSQL's bound-parameter limits. */
export const CHUNK = 200;

/** `rows` in slices of at most `size`. */
export const chunks = <T>(rows: T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
};
