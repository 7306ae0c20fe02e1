/**
 * A reader for the INI dialect of the openITCOCKPIT agent's `config.ini` and `customchecks.ini`:
 * `[section]` headers, `key = value` (or `key: value`) lines, whole-line comments starting with
 * `#` or `;`, indentation ignored, and one pair of matching quotes around a value removed. Keys
 * before the first header belong to the section `default`. A later duplicate key replaces the
 * earlier one, as in the openITCOCKPIT agent's parser.
 */

/** A parse failure, with the 1-based line it happened on. */
export class IniError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'IniError';
  }
}

/** One section: its keys in file order, with the line each was set on. */
export interface IniSection {
  readonly name: string;
  /** The line of the section header (0 for the implicit `default` section). */
  readonly line: number;
  readonly values: Map<string, { value: string; line: number }>;
}

/** A parsed file: its sections in file order, by name. */
export type IniDocument = Map<string, IniSection>;

/** Parses INI text; throws `IniError` naming the line of the first malformed one. */
export function parseIni(text: string): IniDocument {
  const doc: IniDocument = new Map();
  const section = (name: string, line: number): IniSection => {
    let s = doc.get(name);
    if (!s) {
      s = { name, line, values: new Map() };
      doc.set(name, s);
    }
    return s;
  };
  let current: IniSection | undefined;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) {
      const m = /^\[([^\]]+)\]$/.exec(line);
      if (!m) throw new IniError(lineNo, `malformed section header ${JSON.stringify(line)}`);
      current = section(m[1]!.trim(), lineNo);
      continue;
    }
    const eq = firstSeparator(line);
    if (eq <= 0) throw new IniError(lineNo, `expected "key = value", got ${JSON.stringify(line)}`);
    const key = line.slice(0, eq).trim();
    const value = unquote(line.slice(eq + 1).trim());
    (current ?? section('default', 0)).values.set(key, { value, line: lineNo });
  }
  return doc;
}

/** The index of the first `=` or `:` (whichever comes first), or -1. */
function firstSeparator(line: string): number {
  const eq = line.indexOf('=');
  const colon = line.indexOf(':');
  if (eq === -1) return colon;
  if (colon === -1) return eq;
  return Math.min(eq, colon);
}

/** Removes one pair of matching surrounding quotes. */
function unquote(value: string): string {
  if (value.length >= 2) {
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q)) return value.slice(1, -1);
  }
  return value;
}

/** Parses an INI boolean as the openITCOCKPIT agent accepts them; undefined when it is none. */
export function parseIniBool(value: string): boolean | undefined {
  switch (value.trim().toLowerCase()) {
    case 'true':
    case 'yes':
    case 'on':
    case '1':
      return true;
    case 'false':
    case 'no':
    case 'off':
    case '0':
      return false;
    default:
      return undefined;
  }
}

/**
 * Splits a command line into words the way a POSIX shell does for plain words: whitespace
 * separates, single quotes keep everything literally, double quotes keep whitespace and allow
 * `\"` and `\\`, and a backslash outside quotes escapes the next character. Nothing is expanded.
 * Throws when a quote is left open.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end === -1) throw new Error('unterminated single quote');
      word += command.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < command.length && command[j] !== '"'; j++) {
        if (command[j] === '\\' && (command[j + 1] === '"' || command[j + 1] === '\\')) j++;
        word += command[j];
      }
      if (j >= command.length) throw new Error('unterminated double quote');
      inWord = true;
      i = j;
    } else if (c === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
