import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { createLogger, humanLine, isPretty, type LogFormat } from '../src/log.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');

/** A logger writing into an array, as `createLogger` builds it for the format and terminal. */
function capture(format: LogFormat, isTTY: boolean) {
  const lines: string[] = [];
  const logger = createLogger('info', {
    destination: { write: (s: string) => void lines.push(s) },
    format,
    stdout: { isTTY },
  });
  return { logger, lines };
}

for (const [name, record, expected] of [
  [
    'a request: time, level, method, route, status, duration',
    {
      level: 30,
      time: '2026-12-03T10:42:01.123Z',
      service: 'vigil',
      correlation_id: 'c1',
      method: 'GET',
      route: '/api/v1/users/:id',
      path: '/api/v1/users/42',
      status: 404,
      duration_ms: 1.25,
      msg: 'request',
    },
    '10:42:01 INFO  GET /api/v1/users/:id 404 1.25ms\n',
  ],
  [
    'a request no route matched shows its path',
    {
      level: 30,
      time: '2026-12-03T10:42:01.123Z',
      method: 'POST',
      route: null,
      path: '/nope',
      status: 404,
      duration_ms: 0.5,
      msg: 'request',
    },
    '10:42:01 INFO  POST /nope 404 0.5ms\n',
  ],
  [
    'another event: its message and fields',
    {
      level: 40,
      time: '2026-12-03T23:59:59.000Z',
      service: 'vigil',
      msg: 'background job failed',
      job: 'rollups',
      err: { type: 'Error', message: 'disk full', stack: 'Error: disk full\n    at x' },
      applied: ['001_init', '002_next'],
      note: 'two words',
    },
    '23:59:59 WARN  background job failed job=rollups err="disk full" applied=["001_init","002_next"] note="two words"\n',
  ],
] as const)
  test(`humanLine: ${name}`, () => {
    assert.equal(humanLine(JSON.stringify(record)), expected);
  });

test('humanLine: a line that is not a JSON object is kept as it is', () => {
  assert.equal(humanLine('plain text\n'), 'plain text\n');
  assert.equal(humanLine('42'), '42');
});

test('isPretty: auto follows the terminal; json and pretty are fixed', () => {
  assert.equal(isPretty('auto', { isTTY: true }), true);
  assert.equal(isPretty('auto', { isTTY: false }), false);
  assert.equal(isPretty('auto', {}), false);
  assert.equal(isPretty('json', { isTTY: true }), false);
  assert.equal(isPretty('pretty', { isTTY: false }), true);
});

test('createLogger writes JSON lines off a terminal and with json, human lines otherwise', () => {
  for (const [format, tty, human] of [
    ['auto', false, false],
    ['auto', true, true],
    ['json', true, false],
    ['pretty', false, true],
  ] as const) {
    const { logger, lines } = capture(format, tty);
    logger.info(
      { method: 'GET', route: '/api/v1/health', status: 200, duration_ms: 0.3 },
      'request',
    );
    assert.equal(lines.length, 1);
    if (human)
      assert.match(lines[0]!, /^\d\d:\d\d:\d\d INFO {2}GET \/api\/v1\/health 200 0\.3ms\n$/);
    else assert.equal((JSON.parse(lines[0]!) as { route: string }).route, '/api/v1/health');
  }
});

test(
  'auto: human lines on a pseudo-terminal, JSON through a pipe',
  { skip: !existsSync('/usr/bin/script') && 'no script(1)' },
  () => {
    const program = [
      "import { createLogger } from './packages/server/src/log.ts';",
      "createLogger('info', { format: 'auto' }).info({ method: 'GET', route: '/health', status: 200, duration_ms: 1 }, 'request');",
    ].join(' ');
    const node = `${JSON.stringify(process.execPath)} --import tsx --input-type=module -e ${JSON.stringify(program)}`;
    const piped = spawnSync('sh', ['-c', node], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(piped.status, 0, piped.stderr);
    assert.equal((JSON.parse(piped.stdout.trim()) as { msg: string }).msg, 'request');
    const tty = spawnSync('script', ['-qec', node, '/dev/null'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(tty.status, 0, tty.stderr);
    assert.match(tty.stdout, /\d\d:\d\d:\d\d INFO {2}GET \/health 200 1ms/);
    assert.doesNotMatch(tty.stdout, /"msg"/);
  },
);
