import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accounts } from '../src/collect/accounts.js';
import { parsePasswdAccounts } from '../src/collect/procfs/passwd.js';
import { fixtureHost, schemaErrors } from './support.js';

const NOW = Date.UTC(2026, 0, 1);
const collect = async (tree: string) =>
  (await accounts().collect({ host: fixtureHost(tree), nowMs: NOW, intervalSeconds: 30 })) ?? [];

for (const [name, text, expected] of [
  [
    'an account',
    'root:x:0:0:root:/root:/bin/bash\n',
    [{ name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' }],
  ],
  [
    'an empty GECOS and a CRLF line end',
    'sshd:x:101:65534::/run/sshd:/usr/sbin/nologin\r\n',
    [{ name: 'sshd', uid: 101, gid: 65534, home: '/run/sshd', shell: '/usr/sbin/nologin' }],
  ],
  ['a comment, a blank line', '# local accounts\n\n', []],
  ['NIS inclusions', '+@admins::::::\n-baduser::::::\n+::::::\n', []],
  ['too few fields', 'root:x:0:0:root:/root\n', []],
  ['a non-numeric uid', 'root:x:zero:0:root:/root:/bin/bash\n', []],
  ['a negative gid', 'root:x:0:-1:root:/root:/bin/bash\n', []],
  ['an empty name', ':x:0:0:root:/root:/bin/bash\n', []],
  [
    'a name twice: the first line wins',
    'deploy:x:1001:1001::/home/deploy:/bin/bash\ndeploy:x:1002:1002::/srv:/bin/sh\n',
    [{ name: 'deploy', uid: 1001, gid: 1001, home: '/home/deploy', shell: '/bin/bash' }],
  ],
] as const)
  test(`parsePasswdAccounts: ${name}`, () => assert.deepEqual(parsePasswdAccounts(text), expected));

test('accounts on a fixture tree: every account of its /etc/passwd, in file order', async () => {
  const list = await collect('intel-host');
  assert.equal(list.length, 14);
  assert.deepEqual(list[0], { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' });
  assert.deepEqual(list.at(-1), {
    name: 'deploy',
    uid: 1001,
    gid: 1001,
    home: '/home/deploy',
    shell: '/bin/bash',
  });
  assert.deepEqual(
    list.filter((a) => a.shell === '/bin/bash').map((a) => a.name),
    ['root', 'postgres', 'deploy'],
  );
  assert.deepEqual(schemaErrors({ accounts: list }), []);
  // The captured Debian 12 machine's /etc/passwd reads the same way.
  const vm = await collect('debian12-vm');
  assert.ok(vm.length > 10);
  assert.deepEqual(vm[0], { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash' });
});

test('accounts: a machine without /etc/passwd fails rather than report none', async () => {
  await assert.rejects(collect('node-exporter'), /not readable/);
});
