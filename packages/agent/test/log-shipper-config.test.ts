import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentConfigError, parseAgentConfig } from '../src/config.js';

// The `[logs]` section of config.ini.

const FILE = '/etc/vigil-agent/config.ini';

test('[logs]: nothing is collected by default', () => {
  assert.deepEqual(parseAgentConfig('', FILE).logs, {
    files: [],
    journald: false,
    docker: false,
    multilineStart: undefined,
    bufferDir: '/etc/vigil-agent/spool/logs',
    bufferMaxBytes: 64 * 1024 * 1024,
    rateLimit: 1000,
    rateBurst: 5000,
    batchMaxLines: 1000,
    batchDelayMs: 1000,
  });
});

test('[logs]: every key', () => {
  const c = parseAgentConfig(
    [
      '[vigil]',
      'spool-dir = /var/spool/vigil',
      '[logs]',
      'files = /var/log/app/*.log, /srv/x.log ,',
      'journald = true',
      'docker = True',
      'multiline-start = ^\\d{4}-\\d{2}-\\d{2}',
      'buffer-max-bytes = 1048576',
      'rate-limit = 50',
      'rate-burst = 200',
      'batch-max-lines = 5000',
      'batch-delay-ms = 0',
    ].join('\n'),
    FILE,
  ).logs;
  assert.deepEqual(c, {
    files: ['/var/log/app/*.log', '/srv/x.log'],
    journald: true,
    docker: true,
    multilineStart: '^\\d{4}-\\d{2}-\\d{2}',
    bufferDir: '/var/spool/vigil/logs',
    bufferMaxBytes: 1048576,
    rateLimit: 50,
    rateBurst: 200,
    batchMaxLines: 5000,
    batchDelayMs: 0,
  });
  assert.equal(
    parseAgentConfig('[logs]\nbuffer-dir = logbuf\n', FILE).logs.bufferDir,
    '/etc/vigil-agent/logbuf',
  );
});

for (const [name, text, message] of [
  [
    'relative glob',
    'files = app/*.log',
    /\[logs\] files \(line 2\): "app\/\*\.log" is not an absolute/,
  ],
  ['bad switch', 'journald = sometimes', /\[logs\] journald \(line 2\): must be True or False/],
  [
    'bad pattern',
    'multiline-start = ^(\\d',
    /\[logs\] multiline-start \(line 2\): not a regular expression/,
  ],
  [
    'tiny buffer',
    'buffer-max-bytes = 1000',
    /\[logs\] buffer-max-bytes \(line 2\): must be a whole number/,
  ],
  ['zero rate', 'rate-limit = 0', /\[logs\] rate-limit \(line 2\): must be a whole number from 1/],
  [
    'batch over the protocol',
    'batch-max-lines = 5001',
    /\[logs\] batch-max-lines .*from 1 to 5000/,
  ],
  ['negative delay', 'batch-delay-ms = -1', /\[logs\] batch-delay-ms/],
  ['unknown key', 'follow = yes', /\[logs\] follow \(line 2\): unknown key/],
] as const)
  test(`[logs]: ${name} is refused`, () => {
    assert.throws(
      () => parseAgentConfig(`[logs]\n${text}\n`, FILE),
      (e: unknown) => e instanceof AgentConfigError && message.test(e.message),
    );
  });
