import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  ProcessList,
  checkDataOf,
  decodeCheckData,
  documentJson,
  fieldsOf,
  listOf,
  processCount,
  processesOf,
  sectionOf,
} from '../src/decode.js';
import { CHECKDATA_FIXTURE } from '../../../test/support/fixtures.js';

/** The recorded document, compact as the agents send it. */
const text = JSON.stringify(JSON.parse(readFileSync(CHECKDATA_FIXTURE, 'utf8')));

test('decodeCheckData: the recorded document is itself, its process list kept as text', () => {
  const plain = JSON.parse(text) as { processes: unknown[] };
  for (const body of [text, new TextEncoder().encode(text)]) {
    const decoded = decodeCheckData(body)!;
    assert.deepEqual(decoded.dropped, []);
    const doc = decoded.document;
    assert.ok(doc.processes instanceof ProcessList, 'kept as text');
    assert.equal(processCount(doc), plain.processes.length);
    assert.deepEqual(processesOf(doc), plain.processes);
    assert.deepEqual(JSON.parse(documentJson(doc)), plain);
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), plain);
  }
});

// [name, text, what is kept, dropped paths]
const cases: [string, string, unknown, string[]][] = [
  ['an empty document', '{}', {}, []],
  [
    'a leaf of the wrong type',
    '{"memory":{"total":"lots","used":1}}',
    { memory: { used: 1 } },
    ['/memory/total'],
  ],
  [
    'processes in another form are parsed and checked the ordinary way',
    '{"processes":[ {"pid":1}, {"pid":"x"} ]}',
    { processes: [{ pid: 1 }, {}] },
    ['/processes/1/pid'],
  ],
  ['a process list of the wrong type', '{"processes":5}', {}, ['/processes']],
];
for (const [name, body, kept, dropped] of cases)
  test(`decodeCheckData: ${name}`, () => {
    const decoded = decodeCheckData(body)!;
    assert.deepEqual(JSON.parse(JSON.stringify(decoded.document)), kept);
    assert.deepEqual(decoded.dropped, dropped);
  });

test('decodeCheckData: JSON that is no object is no document; text that is no JSON throws', () => {
  for (const body of ['[]', 'null', '"x"', '3']) assert.equal(decodeCheckData(body), undefined);
  assert.throws(() => decodeCheckData('{"memory":'), SyntaxError);
});

test('checkDataOf: a parsed value is decoded without being changed', () => {
  const value = { memory: { total: 'lots', used: 1 }, swap: { total: 2 } };
  const copy = structuredClone(value);
  const decoded = checkDataOf(value)!;
  assert.deepEqual(decoded.document, { memory: { used: 1 }, swap: { total: 2 } });
  assert.deepEqual(value, copy);
  // A document that matches is taken as it is.
  assert.equal(checkDataOf(copy.swap)?.document, copy.swap);
  assert.equal(checkDataOf(null), undefined);
});

test('sectionOf, fieldsOf, listOf: a collector error reads as no section', () => {
  const failed = { error: 'boom' };
  assert.equal(sectionOf<{ total?: number }>(failed), undefined);
  assert.equal(sectionOf<{ total?: number }>(undefined), undefined);
  assert.deepEqual(sectionOf({ total: 1 }), { total: 1 });
  assert.equal(fieldsOf<{ total?: number }>(failed).total, undefined);
  assert.deepEqual(fieldsOf<{ total?: number }>(undefined), {});
  assert.deepEqual(listOf<number>(failed), []);
  assert.deepEqual(listOf<number>(null), []);
  assert.deepEqual(listOf([1, 2]), [1, 2]);
});
