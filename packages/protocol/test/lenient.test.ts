import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckData } from '../src/index.js';
import { lenientDecoder } from '../src/lenient.js';

const decoder = lenientDecoder(CheckData);

// [name, document, what is kept, dropped paths]
const cases: [string, Record<string, unknown>, Record<string, unknown>, string[]][] = [
  [
    'a leaf of the wrong type',
    { memory: { total: 'lots', used: 1 } },
    { memory: { used: 1 } },
    ['/memory/total'],
  ],
  [
    'a section of the wrong type',
    { swap: 'none', memory: { used: 1 } },
    { memory: { used: 1 } },
    ['/swap'],
  ],
  [
    'an array entry that is no object',
    { users: [{ name: 'a' }, 'b', { name: 'c' }] },
    { users: [{ name: 'a' }, { name: 'c' }] },
    ['/users/1'],
  ],
  [
    'a field of an array entry',
    { processes: [{ pid: 1 }, { pid: 'x', name: 'n' }] },
    { processes: [{ pid: 1 }, { name: 'n' }] },
    ['/processes/1/pid'],
  ],
  [
    'a record entry and a field of another',
    { disk_io: { sda: 5, sdb: { Device: 'sdb', ReadBytes: 'many' } } },
    { disk_io: { sdb: { Device: 'sdb' } } },
    ['/disk_io/sda', '/disk_io/sdb/ReadBytes'],
  ],
  [
    'a collector error with a non-string error',
    { cpu: { error: 5, cpu_total_percentage: 3 } },
    { cpu: { error: 5, cpu_total_percentage: 3 } },
    [],
  ],
  [
    'a union without its required discriminator',
    { gpu: { available: 'yes' }, smart: { available: false, reason: 'no smartctl' } },
    { smart: { available: false, reason: 'no smartctl' } },
    ['/gpu'],
  ],
  [
    'a custom check without its required fields, and a bad perfdata item',
    {
      customchecks: {
        a: { stdout: 'OK', rc: 'zero', execution_unix_timestamp_sec: 1 },
        b: {
          stdout: 'OK',
          rc: 0,
          execution_unix_timestamp_sec: 1,
          perfdata: [{ label: 'x', value: 'high' }],
        },
      },
    },
    { customchecks: { b: { stdout: 'OK', rc: 0, execution_unix_timestamp_sec: 1, perfdata: [] } } },
    ['/customchecks/a', '/customchecks/b/perfdata/0'],
  ],
  [
    'the reference placeholder: disks as an object',
    { agent: {}, cpu: {}, customchecks: {}, disk_io: {}, disks: {} },
    { agent: {}, cpu: {}, customchecks: {}, disk_io: {} },
    ['/disks'],
  ],
  [
    'a slash and a tilde in a key are escaped in the path',
    { net_io: { 'a/b~c': { bytes_sent: 'x' } } },
    { net_io: { 'a/b~c': {} } },
    ['/net_io/a~1b~0c/bytes_sent'],
  ],
  [
    'unknown sections and fields are kept',
    { ntp: { Offset: 'x' }, memory: { wired: 'y', total: 'z' } },
    { ntp: { Offset: 'x' }, memory: { wired: 'y' } },
    ['/memory/total'],
  ],
  [
    // Go encodes a nil slice or pointer as null: Windows processes carry `"status": null`.
    'the nulls of the openITCOCKPIT agent (Go nil slices and pointers) are kept, a wrong list is not',
    {
      processes: [
        { pid: 4, username: '', status: null },
        { pid: 5, status: 'Sleep' },
      ],
      cpu: {
        cpu_percentage: null,
        cpu_percentage_detailed: null,
        cpu_total_percentage_detailed: null,
      },
      disks: [{ disk: { device: 'C:', opts: null } }],
    },
    {
      processes: [{ pid: 4, username: '', status: null }, { pid: 5 }],
      cpu: {
        cpu_percentage: null,
        cpu_percentage_detailed: null,
        cpu_total_percentage_detailed: null,
      },
      disks: [{ disk: { device: 'C:', opts: null } }],
    },
    ['/processes/1/status'],
  ],
];

for (const [name, doc, kept, dropped] of cases)
  test(`lenientDecoder: ${name}`, () => {
    const before = structuredClone(doc);
    const out = decoder.prune(doc);
    assert.ok(out);
    assert.deepEqual(out.value, kept);
    assert.deepEqual(out.dropped, dropped);
    assert.deepEqual(doc, before, 'the input is not changed');
    assert.ok(decoder.check(out.value), 'what is kept matches the schema');
  });

test('lenientDecoder: a well-formed document passes the quick check as it is', () => {
  const doc = { agent: { check_interval: 30 }, memory: { total: 1 }, users: { error: 'no utmp' } };
  assert.ok(decoder.check(doc));
  assert.equal(decoder.prune(doc)!.value, doc);
});

test('lenientDecoder: the nulls of a Windows agent pass the quick check as they are', () => {
  const doc = {
    processes: [{ pid: 4, username: '', status: null, num_fds: 2874 }],
    cpu: { cpu_percentage: null, cpu_percentage_detailed: null },
    disks: [{ disk: { opts: null } }],
  };
  assert.ok(decoder.check(doc));
});

test('lenientDecoder: what is no object is no document', () => {
  for (const v of [null, 42, 'x', [], [{}]]) assert.equal(decoder.prune(v), undefined);
});
