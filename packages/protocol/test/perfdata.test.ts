import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_PERFDATA_ITEMS,
  parsePerfdata,
  parsePluginOutput,
  type PerfDatum,
} from '../src/index.js';

const d = (label: string, value: number | null, uom = '', rest: Partial<PerfDatum> = {}) => ({
  label,
  value,
  uom,
  warn: null,
  crit: null,
  min: null,
  max: null,
  ...rest,
});

// [name, input, items, skipped]
const cases: [string, string, PerfDatum[], number][] = [
  ['empty', '', [], 0],
  ['white space only', ' \t\n ', [], 0],
  ['plain value', 'val=1', [d('val', 1)], 0],
  [
    'all five fields',
    'load1=0.210;5.000;10.000;0;16',
    [d('load1', 0.21, '', { warn: '5.000', crit: '10.000', min: 0, max: 16 })],
    0,
  ],
  [
    'trailing semicolons',
    'load5=0.370;4.000;6.000;0;',
    [d('load5', 0.37, '', { warn: '4.000', crit: '6.000', min: 0 })],
    0,
  ],
  [
    'quoted label with spaces and a unit',
    "'disk /var'=45%;80;90;0;100",
    [d('disk /var', 45, '%', { warn: '80', crit: '90', min: 0, max: 100 })],
    0,
  ],
  ['doubled quote inside a label', "'it''s'=3c", [d("it's", 3, 'c')], 0],
  ['equals sign inside a quoted label', "'a=b'=1", [d('a=b', 1)], 0],
  ['time units', 'a=1s b=2ms c=3us', [d('a', 1, 's'), d('b', 2, 'ms'), d('c', 3, 'us')], 0],
  [
    'byte units',
    'a=1B b=2KB c=3MB d=4GB e=5TB',
    [d('a', 1, 'B'), d('b', 2, 'KB'), d('c', 3, 'MB'), d('d', 4, 'GB'), d('e', 5, 'TB')],
    0,
  ],
  [
    'other units are kept',
    'temp=21.5°C rate=3req/s',
    [d('temp', 21.5, '°C'), d('rate', 3, 'req/s')],
    0,
  ],
  ['undetermined value', 'time=U;;;', [d('time', null)], 0],
  [
    'negative and exponent values',
    'a=-1.5 b=2e3 c=.5',
    [d('a', -1.5), d('b', 2000), d('c', 0.5)],
    0,
  ],
  [
    'comma as the decimal point',
    'a=0,5;1,5;2,5',
    [d('a', 0.5, '', { warn: '1,5', crit: '2,5' })],
    0,
  ],
  [
    'ranges in warn and crit',
    'a=5;10:20;@10:20 b=1;~:5;10: c=2;@~:3;-5:5',
    [
      d('a', 5, '', { warn: '10:20', crit: '@10:20' }),
      d('b', 1, '', { warn: '~:5', crit: '10:' }),
      d('c', 2, '', { warn: '@~:3', crit: '-5:5' }),
    ],
    0,
  ],
  ['a threshold that is no range is null', 'a=1;high;x:y', [d('a', 1)], 0],
  ['min and max that are no figures are null', 'a=1;;;low;high', [d('a', 1)], 0],
  ['no equals sign', 'junk', [], 1],
  ['empty label', '=5', [], 1],
  ['value that is no figure', 'x=abc', [], 1],
  ['no value', 'x=', [], 1],
  ['too many fields', 'x=1;2;3;4;5;6', [], 1],
  ['unterminated quote', "a=1 'broken=2", [d('a', 1)], 1],
  ['stray quote in an unquoted label', "it's=1", [], 1],
  [
    'bad items are skipped, good ones kept',
    "load1=0.5;1;2;0; 'disk /var'=45%;80;90;0;100 junk =5 x=abc time=U",
    [
      d('load1', 0.5, '', { warn: '1', crit: '2', min: 0 }),
      d('disk /var', 45, '%', { warn: '80', crit: '90', min: 0, max: 100 }),
      d('time', null),
    ],
    3,
  ],
];

for (const [name, input, items, skipped] of cases)
  test(`parsePerfdata: ${name}`, () => {
    assert.deepEqual(parsePerfdata(input), { items, skipped });
  });

test('parsePerfdata: keeps at most MAX_PERFDATA_ITEMS items', () => {
  const text = Array.from({ length: MAX_PERFDATA_ITEMS + 5 }, (_, i) => `m${i}=${i}`).join(' ');
  const r = parsePerfdata(text);
  assert.equal(r.items.length, MAX_PERFDATA_ITEMS);
  assert.equal(r.skipped, 5);
});

// [name, stdout, output, longOutput, labels]
const outputs: [string, string, string, string, string[]][] = [
  ['text and perfdata', 'OK - hello|val=1;2;3\n', 'OK - hello', '', ['val']],
  ['text only', 'CRITICAL - down\n', 'CRITICAL - down', '', []],
  ['empty', '', '', '', []],
  ['long output without perfdata', 'OK\nline two\nline three\n', 'OK', 'line two\nline three', []],
  [
    'perfdata on the first line and over later lines',
    'DISK OK | a=1;2;3\nline two\nline three | b=2B\nc=3s\n',
    'DISK OK',
    'line two\nline three',
    ['a', 'b', 'c'],
  ],
  ['perfdata only after the long text', 'OK\ndetail|x=1\ny=2', 'OK', 'detail', ['x', 'y']],
  ['Windows line ends', 'OK | a=1\r\nmore | b=2\r\n', 'OK', 'more', ['a', 'b']],
  ['malformed perfdata keeps the text', 'WARNING - x | ===\n', 'WARNING - x', '', []],
];

for (const [name, stdout, output, longOutput, labels] of outputs)
  test(`parsePluginOutput: ${name}`, () => {
    const p = parsePluginOutput(stdout);
    assert.equal(p.output, output);
    assert.equal(p.longOutput, longOutput);
    assert.deepEqual(
      p.perfdata.map((x) => x.label),
      labels,
    );
  });
