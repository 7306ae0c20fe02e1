import { levelOfPriority, levelOfText, type LogLevel } from '@vigil/protocol/log-levels';

/** How far into a line the level word is looked for: it sits near the start in every common format. */
const LEVEL_SCAN_CHARS = 256;

// A level in one of the common spellings, most specific first: a syslog `<PRI>` at the start,
// `level=error`, `"level":"warn"`, `severity: ERROR`, `[warn]`, `<error>`, `(ERROR)`, a word
// and a colon at the start (`error: ...`), then a bare upper-case word (`ERROR`, `WARN`, `ERR`).
// A bare lower-case word in prose ("no error found") is not taken: it says nothing about the
// line's level.
const KEYED = /\b(?:level|lvl|severity|loglevel|log_level)"?\s*[=:]\s*"?([A-Za-z]+)/i;
const BRACKETED = /[[(<]([A-Za-z]{3,13})[\])>]/g;
const UPPER_WORD = /(?<![\w-])([A-Z]{3,13})(?![\w-])/g;
const LEADING_WORD = /^\s*([A-Za-z]{4,13}):\s/;
const SYSLOG_PRI = /^<(\d{1,3})>/;

/**
 * The level word of a log line as written (`ERROR`, `warn`, `<3>`…), or undefined when the line
 * names none. Looks only at the first 256 characters.
 */
export function findLevelWord(line: string): string | undefined {
  const head = line.length > LEVEL_SCAN_CHARS ? line.slice(0, LEVEL_SCAN_CHARS) : line;
  const pri = SYSLOG_PRI.exec(head);
  if (pri && Number(pri[1]) <= 191) return pri[0];
  const keyed = KEYED.exec(head);
  if (keyed && levelOfText(keyed[1]!)) return keyed[1];
  for (const m of head.matchAll(BRACKETED)) if (levelOfText(m[1]!)) return m[1];
  const leading = LEADING_WORD.exec(head);
  if (leading && levelOfText(leading[1]!)) return leading[1];
  for (const m of head.matchAll(UPPER_WORD)) if (levelOfText(m[1]!)) return m[1];
  return undefined;
}

/**
 * The level a log line's text states (see {@link findLevelWord}), normalised: a syslog `<PRI>`
 * by its severity, a word by the protocol's table; `info` when the line states none.
 */
export function levelOfLine(line: string): LogLevel {
  const word = findLevelWord(line);
  if (word === undefined) return 'info';
  const pri = SYSLOG_PRI.exec(word);
  if (pri) return levelOfPriority(Number(pri[1]));
  return levelOfText(word) ?? 'info';
}
