import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ProcessEntry } from '@vigil/protocol';
import { ProcessList, documentJson, parsePushBody, processesOf } from '@vigil/protocol/decode';
import { rng } from '../../../test/support/random.js';
import { normalize } from '../src/telemetry/ingest/normalize.js';
import { CHECKDATA_FIXTURE as FIXTURE } from '../../../test/support/fixtures.js';

const fixture = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
const validList = TypeCompiler.Compile(Type.Array(ProcessEntry));

type Rec = Record<string, unknown>;
const body = (checkdata: unknown) => JSON.stringify({ agentuuid: 'u', password: 'p', checkdata });

/** The body with `checkdata.processes` replaced by `text` (spliced in as it is). */
function withProcessText(text: string): string {
  const doc = fixture();
  doc.processes = '@@';
  return body(doc).replace('"@@"', () => text);
}

/** What the ordinary path makes of a body: its parse, and whether its process list is valid. */
function reference(text: string): { value?: unknown; valid: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { valid: false };
  }
  const processes = ((value as Rec).checkdata as Rec | undefined)?.processes;
  return { value, valid: validList.Check(processes) };
}

/** The fast path's answer in the reference's form (the list parsed), and whether it was kept. */
function fast(text: string): { value?: unknown; kept: boolean; threw: boolean } {
  let value: unknown;
  try {
    value = parsePushBody(text);
  } catch {
    return { kept: false, threw: true };
  }
  const checkdata = (value as Rec).checkdata as Rec;
  const kept = checkdata?.processes instanceof ProcessList;
  if (kept) {
    const list = checkdata.processes as ProcessList;
    assert.equal(list.count, list.items.length, 'the count is the number of entries');
    checkdata.processes = list.items;
  }
  return { value, kept, threw: false };
}

describe('process lists kept as text', () => {
  test('the recorded document: its list is kept, counted, and reads back equal', () => {
    const doc = fixture();
    const parsed = parsePushBody(body(doc)) as Rec;
    const checkdata = parsed.checkdata as Rec;
    assert.ok(checkdata.processes instanceof ProcessList, 'kept as text');
    const list = checkdata.processes as ProcessList;
    assert.equal(list.count, (doc.processes as unknown[]).length);
    assert.deepEqual(list.items, doc.processes);
    assert.deepEqual(processesOf(checkdata), doc.processes);
    // The rest of the document is parsed as usual; the stored text is the same document.
    assert.deepEqual(JSON.parse(documentJson(checkdata)), doc);
    assert.deepEqual(JSON.parse(JSON.stringify(checkdata)), doc);
    // Normalising counts the processes without parsing them.
    const fresh = (parsePushBody(body(doc)) as Rec).checkdata as Rec;
    const n = normalize(fresh);
    assert.equal(n.values[n.keys.indexOf('processes')], (doc.processes as unknown[]).length);
    assert.equal((fresh.processes as unknown as { parsed?: unknown }).parsed, undefined);
  });

  test("the agents' form is kept; other valid forms are parsed the ordinary way, to the same", () => {
    const doc = fixture();
    const procs = doc.processes as Rec[];
    const reordered = procs.map((p) => Object.fromEntries(Object.entries(p).reverse()));
    const plainExtras = procs.map((p, i) => ({
      ...p,
      threads: i,
      cgroup: null,
      ok: true,
      note: 'tab\t"quoted" \\ \u00e9 \ud83d\ude00 \\u0041',
    }));
    const nestedExtras = procs.map((p, i) => ({ ...p, cgroup: { path: `/x/${i}`, list: [1] } }));
    for (const [name, text, kept] of [
      ['compact', JSON.stringify(procs), true],
      ['further plain fields', JSON.stringify(plainExtras), true],
      ['empty', '[]', true],
      ['pretty', JSON.stringify(procs, null, 2), false],
      ['reordered', JSON.stringify(reordered), false],
      ['nested further fields', JSON.stringify(nestedExtras), false],
    ] as const) {
      const b = withProcessText(text);
      const f = fast(b);
      assert.equal(f.kept, kept, `${name}: kept`);
      assert.deepEqual(f.value, JSON.parse(b), name);
    }
  });

  test('anything doubtful goes the ordinary way: same parse, same verdict', () => {
    const procs = JSON.stringify(fixture().processes);
    const p0 = (fixture().processes as Rec[])[0]!;
    const entry = (over: Rec, drop?: string) => {
      const e: Rec = { ...p0, ...over };
      if (drop) delete e[drop];
      return JSON.stringify([e]);
    };
    const targeted: [string, string][] = [
      ['pid as text', entry({ pid: '1' })],
      ['fractional pid', entry({ pid: 1.5 })],
      ['exponent', entry({ cpu_percent: 1 }).replace('"cpu_percent":1', '"cpu_percent":1e400')],
      ['missing field', entry({}, 'exec')],
      ['status not strings', entry({ status: ['S', 1] })],
      ['Memory without rss', entry({ Memory: { vms: 1 } })],
      ['null name', entry({ name: null })],
      ['escaped field name', entry({}).replace('"pid":', '"pi\\u0064":')],
      ['repeated field', entry({}).replace('"pid":', '"pid":"x","pid":')],
      ['repeated field at the end', entry({}).replace(/}]$/, ',"pid":"x"}]')],
      ['repeated Memory field', entry({}).replace('"vms":', '"rss":"x","vms":')],
      ['raw control character', entry({ name: 'a' }).replace('"name":"a"', '"name":"a\u0001"')],
      ['bad escape', entry({ name: 'a' }).replace('"name":"a"', '"name":"a\\x"')],
      ['leading zero', entry({ pid: 7 }).replace('"pid":7', '"pid":07')],
      ['trailing comma', `${procs.slice(0, -1)},]`],
      ['unterminated', procs.slice(0, -1)],
      ['not a list', '{"error":"collector failed"}'],
      ['a list of numbers', '[1,2,3]'],
      ['huge number', entry({}).replace(/"pid":\d+/, `"pid":${'9'.repeat(400)}`)],
    ];
    for (const [name, text] of targeted) {
      const b = withProcessText(text);
      const r = reference(b);
      const f = fast(b);
      assert.equal(f.kept, false, `${name}: not kept`);
      if (r.value === undefined) assert.ok(f.threw, `${name}: not JSON either way`);
      else assert.deepEqual(f.value, r.value, name);
    }
  });

  test('random damage: a kept list is always valid and equal to the ordinary parse', () => {
    const rand = rng(11);
    const original = JSON.stringify(fixture().processes);
    const alphabet = [
      '"',
      '\\',
      ',',
      ':',
      '[',
      ']',
      '{',
      '}',
      '0',
      '1',
      '-',
      '.',
      'e',
      ' ',
      'a',
      '\u0000',
    ];
    let kept = 0;
    for (let n = 0; n < 3000; n++) {
      let text = original;
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * text.length);
        const ch = alphabet[Math.floor(rand() * alphabet.length)]!;
        const op = rand();
        if (op < 0.33) text = text.slice(0, at) + ch + text.slice(at);
        else if (op < 0.66) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + ch + text.slice(at + 1);
      }
      const b = withProcessText(text);
      const r = reference(b);
      const f = fast(b);
      if (r.value === undefined) {
        assert.ok(f.threw, `not JSON, yet parsed: ${text}`);
        continue;
      }
      assert.ok(!f.threw, `JSON, yet refused: ${text}`);
      if (f.kept) {
        kept += 1;
        assert.ok(r.valid, `kept an invalid list: ${text}`);
      }
      assert.deepEqual(f.value, r.value);
    }
    // Damage inside a string leaves a valid list: some must have been kept.
    assert.ok(kept > 100, `${kept} kept`);
  });

  test('a body whose checkdata has no list, or more than one, is parsed whole', () => {
    const doc = fixture();
    delete doc.processes;
    assert.deepEqual(parsePushBody(body(doc)), JSON.parse(body(doc)));
    // A nested list before the check data's own: parsed whole.
    const own = fixture();
    const nested = { docker: [{ name: 'c', processes: own.processes }], ...own };
    const b = body(nested);
    const parsed = parsePushBody(b) as Rec;
    assert.ok(!((parsed.checkdata as Rec).processes instanceof ProcessList));
    assert.deepEqual(parsed, JSON.parse(b));
    // A second list after the check data's own stays where it is.
    const after = fixture();
    after.zz = { processes: [{ any: 1 }] };
    const b2 = body(after);
    const parsed2 = parsePushBody(b2) as Rec;
    assert.ok((parsed2.checkdata as Rec).processes instanceof ProcessList);
    assert.deepEqual(JSON.parse(JSON.stringify(parsed2)), JSON.parse(b2));
    // The check data naming its list twice: the last one counts, as in JSON.parse.
    const twice = body(fixture()).replace(/}}$/, ',"processes":[]}}');
    const parsed3 = parsePushBody(twice) as Rec;
    assert.deepEqual((parsed3.checkdata as Rec).processes, []);
    assert.deepEqual(parsed3, JSON.parse(twice));
    // A list that is not the check data's own is not taken for it.
    const elsewhere = JSON.stringify({ checkdata: { cpu: {} }, processes: [] });
    assert.deepEqual(parsePushBody(elsewhere), JSON.parse(elsewhere));
  });
});
