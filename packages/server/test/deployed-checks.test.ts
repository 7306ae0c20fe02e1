import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checksForHost, expand } from '../src/deployments/checks.js';
import type { Snapshot } from '../src/deployments/snapshot.js';
import type { ConfigObject, Json, ObjectKind } from '../src/objects/model.js';

/** A configuration object with defaults for what a case leaves out. */
function obj(
  kind: ObjectKind,
  name: string,
  o: Partial<Omit<ConfigObject, 'kind' | 'object_name'>> = {},
): ConfigObject {
  return {
    kind,
    object_name: name,
    object_type: 'object',
    host: null,
    imports: [],
    vars: {},
    properties: {},
    disabled: false,
    ...o,
  };
}

const empty = (): Snapshot => ({
  commands: [],
  hostgroups: [],
  host_templates: [],
  hosts: [],
  service_templates: [],
  services: [],
});

/** A snapshot of one host `web1` running one service `svc` with the given command. */
function oneCheck(
  command: Record<string, Json>,
  opts: {
    commandVars?: Record<string, Json>;
    hostVars?: Record<string, Json>;
    serviceVars?: Record<string, Json>;
  } = {},
): Snapshot {
  return {
    ...empty(),
    commands: [obj('command', 'cmd', { properties: command, vars: opts.commandVars ?? {} })],
    hosts: [
      obj('host', 'web1', {
        properties: { address: '192.0.2.10', display_name: 'Web one' },
        vars: opts.hostVars ?? {},
      }),
    ],
    services: [
      obj('service', 'svc', {
        host: 'web1',
        properties: { check_command: 'cmd' },
        vars: opts.serviceVars ?? {},
      }),
    ],
  };
}

const argvOf = (s: Snapshot): string[] | undefined => checksForHost(s, 'web1')?.checks[0]?.command;

for (const [name, snapshot, expected] of [
  [
    'a relative command is taken from the plugin directory',
    oneCheck({ command: 'check_ping' }),
    ['/usr/lib/nagios/plugins/check_ping'],
  ],
  [
    'an absolute command stays as it is',
    oneCheck({ command: '/opt/plugins/check_x' }),
    ['/opt/plugins/check_x'],
  ],
  [
    'arguments go by order, then by name',
    oneCheck({
      command: 'check_x',
      arguments: {
        '-b': 'B',
        '-a': 'A',
        '-z': { value: 'Z', order: '-1' },
        '-c': { value: 'C', order: 2 },
      },
    }),
    ['/usr/lib/nagios/plugins/check_x', '-z', 'Z', '-a', 'A', '-b', 'B', '-c', 'C'],
  ],
  [
    'host macros resolve: address, host.name, host.address, host.vars',
    oneCheck(
      {
        command: 'check_x',
        arguments: {
          '-H': '$address$',
          '-n': '$host.name$',
          '-a': '$host.address$',
          '-o': '$host.vars.os$',
          '-d': '$host.display_name$',
        },
      },
      { hostVars: { os: 'Linux' } },
    ),
    [
      '/usr/lib/nagios/plugins/check_x',
      '-H',
      '192.0.2.10',
      '-a',
      '192.0.2.10',
      '-d',
      'Web one',
      '-n',
      'web1',
      '-o',
      'Linux',
    ],
  ],
  [
    'a bare macro takes the service var, then the host var, then the command var',
    oneCheck(
      { command: 'check_x', arguments: { '-w': '$warn$', '-c': '$crit$', '-t': '$tmo$' } },
      {
        serviceVars: { warn: 's-warn' },
        hostVars: { warn: 'h-warn', crit: 'h-crit' },
        commandVars: { warn: 'c-warn', crit: 'c-crit', tmo: 10 },
      },
    ),
    ['/usr/lib/nagios/plugins/check_x', '-c', 'h-crit', '-t', '10', '-w', 's-warn'],
  ],
  [
    'macros inside text are written in; $$ is a dollar sign',
    oneCheck(
      { command: 'check_x', arguments: { '-w': '$rta$,$pl$%', '-p': 'cost$$' } },
      { serviceVars: { rta: 100, pl: 5 } },
    ),
    ['/usr/lib/nagios/plugins/check_x', '-p', 'cost$', '-w', '100,5%'],
  ],
  [
    'an argument whose macro resolves to nothing is left out',
    oneCheck({
      command: 'check_x',
      arguments: { '-w': '$nothing$,5', '-c': '$service.vars.none$', '-v': 'v' },
    }),
    ['/usr/lib/nagios/plugins/check_x', '-v', 'v'],
  ],
  [
    'set_if keeps the argument only when it holds; an argument without value is its key',
    oneCheck(
      {
        command: 'check_x',
        arguments: {
          '--yes': { set_if: '$on$' },
          '--no': { set_if: '$off$' },
          '--missing': { set_if: '$absent$' },
          '--num': { set_if: '1' },
          '--zero': { set_if: '0' },
        },
      },
      { serviceVars: { on: true, off: false } },
    ),
    ['/usr/lib/nagios/plugins/check_x', '--num', '--yes'],
  ],
  [
    'skip_key gives the value alone; key renames the argument; a separator joins key and value',
    oneCheck({
      command: 'check_x',
      arguments: {
        host: { value: '$address$', skip_key: true, order: 1 },
        port_arg: { key: '-p', value: '22' },
        '--mode': { value: 'fast', separator: '=' },
      },
    }),
    ['/usr/lib/nagios/plugins/check_x', '--mode=fast', '-p', '22', '192.0.2.10'],
  ],
  [
    'a list repeats the key unless repeat_key is false; booleans give the key or nothing',
    oneCheck(
      {
        command: 'check_x',
        arguments: {
          '-d': '$disks$',
          '-e': { value: '$disks$', repeat_key: 'n' },
          '--all': '$all$',
          '--none': '$none$',
        },
      },
      { serviceVars: { disks: ['/', '/var'], all: true, none: false } },
    ),
    ['/usr/lib/nagios/plugins/check_x', '--all', '-d', '/', '-d', '/var', '-e', '/', '/var'],
  ],
] as const)
  test(`checksForHost: ${name}`, () => assert.deepEqual(argvOf(snapshot), expected));

test('checksForHost: a missing required argument leaves the check out', () => {
  const s = oneCheck({
    command: 'check_x',
    arguments: { '-w': { value: '$warn$', required: true } },
  });
  assert.deepEqual(checksForHost(s, 'web1'), {
    checksum: checksForHost({ ...s, services: [] }, 'web1')!.checksum,
    checks: [],
  });
});

test('checksForHost: a host not in the snapshot has no answer', () => {
  assert.equal(checksForHost(oneCheck({ command: 'check_x' }), 'other'), undefined);
});

test('checksForHost: services of templates at every level, the host’s own winning; resolved intervals', () => {
  const s: Snapshot = {
    ...empty(),
    commands: [
      obj('command', 'ping', {
        properties: { command: 'check_ping', arguments: { '-H': '$address$' }, timeout: '30' },
      }),
      obj('command', 'disk', { properties: { command: 'check_disk' } }),
    ],
    host_templates: [
      obj('host', 'base', { object_type: 'template', vars: { role: 'base' } }),
      obj('host', 'linux', { object_type: 'template', imports: ['base'] }),
    ],
    hosts: [
      obj('host', 'web1', { imports: ['linux'], properties: { address: '192.0.2.10' } }),
      obj('host', 'web2', { imports: ['linux'], properties: { address: '192.0.2.11' } }),
    ],
    service_templates: [
      obj('service', 'generic', { object_type: 'template', properties: { check_interval: '300' } }),
    ],
    services: [
      obj('service', 'ping', {
        host: 'base',
        imports: ['generic'],
        properties: { check_command: 'ping' },
      }),
      obj('service', 'disk', {
        host: 'linux',
        properties: { check_command: 'disk', check_interval: '60', check_timeout: '10' },
      }),
      // web2's own ping replaces the template's: another address.
      obj('service', 'ping', {
        host: 'web2',
        properties: { check_command: 'ping' },
        vars: {},
      }),
    ],
  };
  const web1 = checksForHost(s, 'web1')!;
  assert.deepEqual(web1.checks, [
    {
      name: 'disk',
      command: ['/usr/lib/nagios/plugins/check_disk'],
      interval_seconds: 60,
      timeout_seconds: 10,
    },
    {
      name: 'ping',
      command: ['/usr/lib/nagios/plugins/check_ping', '-H', '192.0.2.10'],
      interval_seconds: 300,
      timeout_seconds: 30,
    },
  ]);
  const web2 = checksForHost(s, 'web2')!;
  assert.deepEqual(web2.checks[1], {
    name: 'ping',
    command: ['/usr/lib/nagios/plugins/check_ping', '-H', '192.0.2.11'],
    timeout_seconds: 30,
  });
  assert.match(web1.checksum, /^[0-9a-f]{40}$/);
  assert.notEqual(web1.checksum, web2.checksum);
  // The same checks, the same checksum; a changed check, another.
  assert.equal(checksForHost(structuredClone(s), 'web1')!.checksum, web1.checksum);
  const changed = structuredClone(s);
  changed.services[1]!.properties.check_interval = '120';
  assert.notEqual(checksForHost(changed, 'web1')!.checksum, web1.checksum);
});

for (const [text, expected] of [
  ['plain', 'plain'],
  ['$a$', ['x', 'y']],
  ['pre $b$ post', 'pre 2 post'],
  ['$missing$', undefined],
  ['a $missing$ b', undefined],
  ['100$$', '100$'],
] as const)
  test(`expand: ${text}`, () =>
    assert.deepEqual(
      expand(text, (n) => ({ a: ['x', 'y'], b: 2 })[n] as Json | undefined),
      expected,
    ));
