import type { LogTerm } from './model.js';

/** Longest `q` accepted, in characters. */
export const QUERY_MAX_LENGTH = 1_000;
/** Most terms a query keeps; more are ignored. */
const MAX_TERMS = 32;

/**
 * The words of a text as the full-text index sees them: runs of letters and digits, lower-cased.
 * Everything else (punctuation, operators of FTS5 or tsquery syntax) separates words, so that no
 * character of a query is ever syntax.
 */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().split(WORD_SEPARATORS).filter(Boolean);
}
const WORD_SEPARATORS = /[^\p{L}\p{N}]+/u;

/**
 * Parses a full-text query: words (all must match), `"exact phrases"`, and `prefix*`. Every other
 * character is text: it separates words, as in the index. A word of several parts (`nginx.service`,
 * `a-b`) is the phrase of its parts; an unbalanced quote runs to the end; a term with no letter or
 * digit (`*`, `-`, `"`) is dropped. Never throws.
 */
export function parseLogQuery(q: string): LogTerm[] {
  const terms: LogTerm[] = [];
  const add = (text: string, prefix: boolean) => {
    const words = wordsOf(text);
    if (words.length === 0) return;
    if (words.length === 1 && !prefix) terms.push({ kind: 'word', word: words[0]! });
    else terms.push({ kind: 'phrase', words, prefix });
  };
  let i = 0;
  while (i < q.length && terms.length < MAX_TERMS) {
    const c = q[i]!;
    if (/\s/u.test(c)) {
      i += 1;
    } else if (c === '"') {
      const end = q.indexOf('"', i + 1);
      const stop = end === -1 ? q.length : end;
      const inner = q.slice(i + 1, stop);
      i = stop + 1;
      const prefix = q[i] === '*';
      if (prefix) i += 1;
      add(inner, prefix && /[\p{L}\p{N}]$/u.test(inner));
    } else {
      let j = i;
      while (j < q.length && !/\s/u.test(q[j]!) && q[j] !== '"') j += 1;
      const token = q.slice(i, j);
      i = j;
      // A star ends a prefix only right after a letter or digit (`ngi*`, not `ngi.*`).
      add(token, /[\p{L}\p{N}]\*+$/u.test(token));
    }
  }
  return terms;
}

/** The words to highlight for terms: each word, a prefix with `*` after it; no repeats. */
export function highlightsOf(terms: readonly LogTerm[]): string[] {
  const out = new Set<string>();
  for (const t of terms)
    if (t.kind === 'word') out.add(t.word);
    else t.words.forEach((w, i) => out.add(t.prefix && i === t.words.length - 1 ? `${w}*` : w));
  return [...out];
}

/**
 * The query as an FTS5 MATCH expression: each term a quoted string (a quote in it doubled), a
 * prefix with `*` after the string, terms side by side (AND).
 */
export function toFts5(terms: readonly LogTerm[]): string {
  const quote = (words: string[]) => `"${words.join(' ').replaceAll('"', '""')}"`;
  return terms
    .map((t) => (t.kind === 'word' ? quote([t.word]) : `${quote(t.words)}${t.prefix ? ' *' : ''}`))
    .join(' ');
}

/**
 * The query as the text of a PostgreSQL tsquery, for `to_tsquery('simple', $1)` (a bound
 * parameter): each word a quoted lexeme (a quote in it doubled), phrases joined by `<->`, a
 * prefix marked `:*`, terms joined by `&`. Words hold only letters and digits (`wordsOf`).
 */
export function toTsquery(terms: readonly LogTerm[]): string {
  const lexeme = (w: string, prefix = false) => `'${w.replaceAll("'", "''")}'${prefix ? ':*' : ''}`;
  return terms
    .map((t) =>
      t.kind === 'word'
        ? lexeme(t.word)
        : `(${t.words.map((w, i) => lexeme(w, t.prefix && i === t.words.length - 1)).join(' <-> ')})`,
    )
    .join(' & ');
}

/**
 * A matcher of messages for terms, as the index matches (the live tail applies it to new lines
 * in memory): every word present, every phrase's words adjacent and in order, a prefix as the
 * start of a word.
 */
export function messageMatcher(terms: readonly LogTerm[]): (message: string) => boolean {
  if (terms.length === 0) return () => true;
  return (message) => {
    const words = wordsOf(message);
    return terms.every((t) => {
      if (t.kind === 'word') return words.includes(t.word);
      const n = t.words.length;
      for (let i = 0; i + n <= words.length; i += 1) {
        let ok = true;
        for (let k = 0; k < n && ok; k += 1) {
          const w = words[i + k]!;
          const want = t.words[k]!;
          ok = t.prefix && k === n - 1 ? w.startsWith(want) : w === want;
        }
        if (ok) return true;
      }
      return false;
    });
  };
}
