// The README and the pages in docs/ against the code: the configuration page lists exactly the keys
// of the configuration schema with their variables and defaults, the README's quick start stays
// the two commands CI runs, lines stay short enough to read in a terminal, links resolve, and every
// file and folder the architecture page names exists.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { KEYS } from '../src/config/keys.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
/** The longest line (so the longest table row or cell) of README.md and docs/*.md, in characters. */
const LINE_LIMIT = 200;

const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const pages = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

test('the configuration page documents every key of the schema, and only those', () => {
  const lines = read('docs/configuration.md').split('\n');
  const expected = Object.entries(KEYS).flatMap(([section, keys]) =>
    Object.keys(keys).map((key) => `${section}.${key}`),
  );
  // Table rows `| `section.key` | `VIGIL_…` | default |`, each under its section's heading.
  const rows = new Map<string, { heading: string; cells: string[] }>();
  const meanings = new Map<string, string>();
  let heading = '';
  for (const line of lines) {
    if (line.startsWith('## ')) heading = line.slice(3);
    const row = /^\| `([a-z0-9_]+\.[a-z0-9_]+)` +\|(.*)\|$/.exec(line);
    if (row) {
      assert.ok(!rows.has(row[1]!), `${row[1]} has one row`);
      rows.set(row[1]!, { heading, cells: row[2]!.split('|').map((c) => c.trim()) });
    }
    const meaning = /^- `([a-z0-9_]+\.[a-z0-9_]+)`:(.*)$/.exec(line);
    if (meaning) {
      assert.ok(!meanings.has(meaning[1]!), `${meaning[1]} is explained once`);
      meanings.set(meaning[1]!, meaning[2]!.trim());
    }
  }
  assert.deepEqual([...rows.keys()].sort(), [...expected].sort(), 'the table rows are the keys');
  assert.deepEqual([...meanings.keys()].sort(), [...expected].sort(), 'each key is explained');
  for (const [section, keys] of Object.entries(KEYS)) {
    for (const [key, spec] of Object.entries(keys)) {
      const name = `${section}.${key}`;
      const { heading: under, cells } = rows.get(name)!;
      assert.equal(under, `\`[${section}]\``, `${name} is under its section`);
      const env = `\`VIGIL_${section}_${key}\``.toUpperCase();
      const dflt = spec.default === '' ? '—' : `\`${String(spec.default)}\``;
      assert.deepEqual(cells, [env, dflt], `${name} names ${env} and its default ${dflt}`);
    }
  }
});

test('the README quick start has exactly the two documented commands', () => {
  const readme = read('README.md');
  assert.match(readme, /```sh\nnpm install && npm start\n```/);
  assert.match(readme, /```sh\nnpm test\n```/);
});

test(`no line of README.md or docs/*.md, table rows included, is over ${LINE_LIMIT} characters`, () => {
  for (const page of pages) {
    read(page)
      .split('\n')
      .forEach((line, i) => {
        const length = [...line].length;
        assert.ok(length <= LINE_LIMIT, `${page}:${i + 1} has ${length} characters`);
      });
  }
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

/** The anchors of a page's headings (outside code blocks), with GitHub's suffix for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  let code = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) code = !code;
    const h = code ? null : /^#{1,6} (.*)$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]!);
    const n = seen.get(base);
    seen.set(base, (n ?? -1) + 1);
    if (n !== undefined) seen.set(`${base}-${n + 1}`, 0);
  }
  return new Set(seen.keys());
}

test('every relative link of README.md and docs/*.md names a file and heading that exist', () => {
  for (const page of pages) {
    const text = read(page);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      const [file, anchor] = target!.split('#') as [string, string | undefined];
      const linked = file === '' ? page : path.posix.join(path.posix.dirname(page), file);
      const body = read(linked);
      if (anchor !== undefined)
        assert.ok(anchors(body).has(anchor), `${page}: ${linked} has a heading #${anchor}`);
    }
  }
});

/** Every file and folder of the repository, relative to its root, as `a/b/c` (`/`-separated). */
function repositoryPaths(): { files: Set<string>; folders: Set<string> } {
  const files = new Set<string>();
  const folders = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      // Dependencies, build output, local data and dot-folders are not the repository's layout.
      if (entry.name.startsWith('.') || ['node_modules', 'dist', 'data'].includes(entry.name))
        continue;
      const rel = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        folders.add(rel);
        walk(rel);
      } else files.add(rel);
    }
  };
  walk('');
  return { files, folders };
}

test('every file and folder that docs/architecture.md names exists', () => {
  const { files, folders } = repositoryPaths();
  const all = new Set([...files, ...folders]);
  // A code span naming a path: a folder (`agents/`, `src/faces/`), a script (`app.ts`,
  // `telemetry/tsdb/store/commit.ts`, `eslint.config.js`) or anything under `packages/`. It exists
  // when some file or folder of the repository is it or ends with it, so `collect/procfs/` is the
  // agent's and `login.ts` identity's. Spans with spaces or placeholders (`<`, `*`, `{`) are not
  // paths; code blocks (the diagram) are left out.
  const prose = read('docs/architecture.md').replace(/^```[^]*?^```$/gm, '');
  const missing: string[] = [];
  for (const [, span] of prose.matchAll(/`([^`]+)`/g)) {
    const named = /^[\w.-]+(\/[\w.-]+)*\/$/.test(span!)
      ? { path: span!.slice(0, -1), in: folders }
      : /^[\w.-]+(\/[\w.-]+)*\.(ts|js|mjs)$/.test(span!)
        ? { path: span!, in: files }
        : /^packages(\/[\w.-]+)+$/.test(span!)
          ? { path: span!, in: all }
          : undefined;
    if (!named) continue;
    const found = [...named.in].some((p) => p === named.path || p.endsWith(`/${named.path}`));
    if (!found) missing.push(span!);
  }
  assert.deepEqual(missing, [], 'docs/architecture.md names only paths that exist');
});
