import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

const WILD = /[*?[]/;

/**
 * A regular expression for one path segment of a glob: `*` (any run of characters), `?` (one
 * character) and `[...]` (a set, `[!...]` or `[^...]` negated, ranges allowed); a leading dot is
 * matched only by a literal dot, as in the shell. Throws on an unclosed `[`.
 */
export function segmentPattern(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const ch = segment[i]!;
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = segment.indexOf(']', i + 2);
      if (end < 0) throw new Error(`unclosed [ in "${segment}"`);
      let set = segment.slice(i + 1, end);
      const negated = set[0] === '!' || set[0] === '^';
      if (negated) set = set.slice(1);
      re += `[${negated ? '^' : ''}${set.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(segment.startsWith('.') ? `^${re}$` : `^(?!\\.)${re}$`);
}

/** Whether `name` (one path segment, no slash) matches the glob segment `segment`. */
export function matchSegment(segment: string, name: string): boolean {
  return segmentPattern(segment).test(name);
}

/**
 * The regular files the globs match now, sorted, without duplicates. Relative globs are taken
 * from the working directory. Wildcards may stand in any segment (`/var/log/*\/*.log`); `**` is
 * an ordinary `*`. A folder that cannot be read matches nothing; a glob with a bad set is skipped.
 */
export async function expandGlobs(globs: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const glob of globs) {
    const abs = path.resolve(glob);
    const segments = abs.split('/').filter(Boolean);
    let patterns: (RegExp | string)[];
    try {
      patterns = segments.map((s) => (WILD.test(s) ? segmentPattern(s) : s));
    } catch {
      continue;
    }
    let dirs = ['/'];
    for (let i = 0; i < patterns.length; i++) {
      const p = patterns[i]!;
      const next: string[] = [];
      for (const dir of dirs) {
        if (typeof p === 'string') next.push(path.join(dir, p));
        else {
          const names = await readdir(dir).catch(() => [] as string[]);
          for (const name of names.sort()) if (p.test(name)) next.push(path.join(dir, name));
        }
      }
      dirs = next;
    }
    for (const file of dirs) {
      const st = await stat(file).catch(() => undefined);
      if (st?.isFile()) found.add(file);
    }
  }
  return [...found].sort();
}
