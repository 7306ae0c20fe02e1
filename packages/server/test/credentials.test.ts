import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** A key made by ssh-keygen, with what `ssh-keygen -l` says of it. */
interface Key {
  pem: string;
  passphrase: string;
  fingerprint: string;
  bits: number;
  type: string;
}
const keyDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-keys-'));
after(() => rmSync(keyDir, { recursive: true, force: true }));
function keygen(name: string, type: string, passphrase = '', bits?: number): Key {
  const file = path.join(keyDir, name);
  execFileSync('ssh-keygen', [
    '-q',
    '-t',
    type,
    ...(bits ? ['-b', String(bits)] : []),
    '-N',
    passphrase,
    '-C',
    name,
    '-f',
    file,
  ]);
  const [b, fingerprint, , kind] = execFileSync('ssh-keygen', ['-l', '-f', `${file}.pub`])
    .toString()
    .trim()
    .split(/\s+/);
  return {
    pem: readFileSync(file, 'utf8'),
    passphrase,
    fingerprint: fingerprint!,
    bits: Number(b),
    type: kind!.replace(/[()]/g, ''),
  };
}
const ed = keygen('ed', 'ed25519');
const rsa = keygen('rsa', 'rsa', 'open sesame', 3072);
const ecdsa = keygen('ec', 'ecdsa', '', 384);
const rsaPem = (() => {
  const file = path.join(keyDir, 'pem');
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-f', file]);
  return readFileSync(file, 'utf8');
})();
const PASSWORD = 'Tr0ub4dor&3-plaintext-canary';

for (const kind of await databaseKinds()) {
  describe(`credentials on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    let hostA: string;
    let hostB: string;

    const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) =>
      h.inject({
        method,
        url,
        headers: bearer(admin),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    const create = async (body: Record<string, unknown>) => {
      const res = await call('POST', '/api/v1/credentials', {
        name: 'c',
        username: 'ops',
        scope: 'system',
        ...body,
      });
      assert.equal(res.statusCode, 201, res.body);
      return res.json();
    };
    const resolve = (hostId: string) => call('POST', `/api/v1/hosts/${hostId}/credentials:resolve`);

    before(async () => {
      h = await startHarness(kind);
      admin = await h.login();
      const host = async (hostname: string) => {
        const res = await call('POST', '/api/v1/hosts', { hostname, ip_address: '192.0.2.5' });
        assert.equal(res.statusCode, 201, res.body);
        return res.json().id as string;
      };
      hostA = await host('cred-a');
      hostB = await host('cred-b');
    });
    after(() => h.close());

    test('a key shows its fingerprint, type and bits as ssh-keygen -l does; never a secret', async () => {
      for (const [key, method] of [
        [ed, 'ssh_key'],
        [rsa, 'both'],
        [ecdsa, 'ssh_key'],
      ] as const) {
        const c = await create({
          auth_method: method,
          private_key: key.pem,
          ...(key.passphrase ? { private_key_passphrase: key.passphrase } : {}),
          ...(method === 'both' ? { password: PASSWORD } : {}),
        });
        assert.equal(c.ssh_key_fingerprint, key.fingerprint);
        assert.equal(c.ssh_key_type, key.type);
        assert.equal(c.ssh_key_bits, key.bits);
        assert.equal(c.has_private_key, true);
        assert.equal(c.has_passphrase, key.passphrase !== '');
        assert.equal(c.has_password, method === 'both');
        const got = await call('GET', `/api/v1/credentials/${c.id}`);
        const listed = await call('GET', '/api/v1/credentials');
        for (const body of [JSON.stringify(c), got.body, listed.body]) {
          assert.ok(!body.includes(PASSWORD));
          assert.ok(!body.includes('PRIVATE KEY'));
          assert.ok(!body.includes(key.passphrase || 'no passphrase'));
        }
      }
      const pem = await create({ auth_method: 'ssh_key', private_key: rsaPem });
      assert.equal(pem.ssh_key_type, 'RSA');
      assert.equal(pem.ssh_key_bits, 2048);
    });

    test('the database holds no plaintext secret', async () => {
      await create({
        name: 'canary',
        auth_method: 'both',
        private_key: rsa.pem,
        private_key_passphrase: rsa.passphrase,
        password: PASSWORD,
      });
      const keyLine = rsa.pem.split('\n')[3]!;
      assert.ok(keyLine.length > 40);
      const needles = [PASSWORD, keyLine, rsa.passphrase, ed.pem.split('\n')[2]!];
      const file = h.vigil.db.sqlite?.name;
      assert.equal(file !== undefined, kind.name === 'sqlite');
      if (file) {
        assert.ok(existsSync(file));
        // The write-ahead log holds recent pages too: both files, as bytes.
        h.vigil.db.sqlite!.pragma('wal_checkpoint(PASSIVE)');
        for (const f of [file, `${file}-wal`]) {
          if (!existsSync(f)) continue;
          const bytes = readFileSync(f);
          for (const n of needles) assert.equal(bytes.indexOf(n), -1, `${f} holds ${n}`);
        }
      }
      const rows = await h.vigil.db.kysely.selectFrom('credentials').selectAll().execute();
      assert.ok(rows.length > 0);
      const text = JSON.stringify(rows);
      for (const n of needles) assert.ok(!text.includes(n), `a row holds ${n}`);
      const audit = await h.vigil.db.kysely.selectFrom('audit_events').selectAll().execute();
      for (const n of needles) assert.ok(!JSON.stringify(audit).includes(n), 'audit holds it');
    });

    test('a malformed key, a wrong or missing passphrase, a public key are 400', async () => {
      const cases: [string, Record<string, unknown>][] = [
        ['credential.invalid_key', { auth_method: 'ssh_key', private_key: 'not a key' }],
        [
          'credential.invalid_key',
          { auth_method: 'ssh_key', private_key: ed.pem.replace(/[A-Za-z]{8}/, 'AAAAAAAA') },
        ],
        [
          'credential.invalid_key',
          { auth_method: 'ssh_key', private_key: rsa.pem, private_key_passphrase: 'wrong' },
        ],
        ['credential.invalid_key', { auth_method: 'ssh_key', private_key: rsa.pem }],
        [
          'credential.invalid_key',
          {
            auth_method: 'ssh_key',
            private_key: readFileSync(path.join(keyDir, 'ed.pub'), 'utf8'),
          },
        ],
        ['validation_failed', { auth_method: 'ssh_key' }],
        ['validation_failed', { auth_method: 'password' }],
        ['validation_failed', { auth_method: 'both', password: PASSWORD }],
        ['validation_failed', { auth_method: 'password', password: PASSWORD, scope: 'host' }],
        [
          'validation_failed',
          { auth_method: 'password', password: PASSWORD, scope: 'host', host_id: 'nope' },
        ],
        [
          'validation_failed',
          { auth_method: 'password', password: PASSWORD, scope: 'system', host_id: hostA },
        ],
        ['validation_failed', { auth_method: 'telepathy', password: PASSWORD }],
        ['validation_failed', { auth_method: 'password', password: PASSWORD, scope: 'global' }],
        ['validation_failed', { auth_method: 'password', password: '' }],
        ['validation_failed', { auth_method: 'password', password: 5 }],
      ];
      for (const [code, body] of cases) {
        const res = await call('POST', '/api/v1/credentials', {
          name: 'bad',
          username: 'ops',
          scope: 'system',
          ...body,
        });
        assert.equal(res.statusCode, 400, `${JSON.stringify(body).slice(0, 80)}: ${res.body}`);
        assert.equal(res.json().error.code, code, res.body);
      }
      for (const [method, url] of [
        ['GET', '/api/v1/credentials/nope'],
        ['PATCH', '/api/v1/credentials/nope'],
        ['DELETE', '/api/v1/credentials/nope'],
        ['POST', '/api/v1/credentials/nope:clone'],
      ] as const) {
        const res = await call(
          method,
          url,
          method === 'PATCH' ? { name: 'x' } : method === 'POST' ? { scope: 'system' } : undefined,
        );
        assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
        assert.equal(res.json().error.code, 'credential.not_found');
      }
    });

    test('resolution: the host credential beats the system default; none is 404', async () => {
      let res = await resolve(hostA);
      // Credentials made above are system ones, none default.
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().error.code, 'credential.unresolved');
      const first = await create({
        name: 'default-1',
        auth_method: 'password',
        password: PASSWORD,
        is_default: true,
      });
      const second = await create({
        name: 'default-2',
        auth_method: 'password',
        password: PASSWORD,
        is_default: true,
      });
      // One system default: the newer one.
      assert.equal((await call('GET', `/api/v1/credentials/${first.id}`)).json().is_default, false);
      res = await resolve(hostA);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().source, 'system_default');
      assert.equal(res.json().credential.id, second.id);
      assert.ok(!res.body.includes(PASSWORD));
      const own = await create({
        name: 'a-own',
        scope: 'host',
        host_id: hostA,
        auth_method: 'ssh_key',
        private_key: ed.pem,
      });
      res = await resolve(hostA);
      assert.equal(res.json().source, 'host');
      assert.equal(res.json().credential.id, own.id);
      // Another host still gets the system default.
      assert.equal((await resolve(hostB)).json().credential.id, second.id);
      assert.equal((await resolve('nope')).statusCode, 404);
      const filtered = (await call('GET', `/api/v1/credentials?host_id=${hostA}`)).json();
      assert.deepEqual(
        filtered.items.map((c: { id: string }) => c.id),
        [own.id],
      );
    });

    test('clone copies the secrets to a new scope on the server; PATCH and DELETE', async () => {
      const src = await create({
        name: 'to-clone',
        auth_method: 'both',
        private_key: rsa.pem,
        private_key_passphrase: rsa.passphrase,
        password: PASSWORD,
        is_default: false,
      });
      const res = await call('POST', `/api/v1/credentials/${src.id}:clone`, {
        scope: 'host',
        host_id: hostB,
        name: 'b-copy',
      });
      assert.equal(res.statusCode, 201, res.body);
      const copy = res.json();
      assert.notEqual(copy.id, src.id);
      assert.equal(copy.name, 'b-copy');
      assert.equal(copy.scope, 'host');
      assert.equal(copy.host_id, hostB);
      assert.equal(copy.ssh_key_fingerprint, rsa.fingerprint);
      assert.equal(copy.has_password, true);
      assert.equal(copy.has_passphrase, true);
      const [a, b] = await Promise.all(
        [src.id, copy.id].map((id) =>
          h.vigil.db.kysely
            .selectFrom('credentials')
            .selectAll()
            .where('id', '=', id)
            .executeTakeFirstOrThrow(),
        ),
      );
      assert.equal(a.password_sealed, b.password_sealed);
      assert.equal((await resolve(hostB)).json().credential.id, copy.id);
      const bad = await call('POST', `/api/v1/credentials/${src.id}:clone`, { scope: 'host' });
      assert.equal(bad.statusCode, 400);

      // A new passphrase alone is checked against the stored key.
      let patch = await call('PATCH', `/api/v1/credentials/${copy.id}`, {
        private_key_passphrase: 'wrong',
      });
      assert.equal(patch.statusCode, 400, patch.body);
      assert.equal(patch.json().error.code, 'credential.invalid_key');
      patch = await call('PATCH', `/api/v1/credentials/${copy.id}`, {
        auth_method: 'password',
        private_key: null,
        private_key_passphrase: null,
        username: 'root2',
      });
      assert.equal(patch.statusCode, 200, patch.body);
      assert.equal(patch.json().has_private_key, false);
      assert.equal(patch.json().ssh_key_fingerprint, null);
      assert.equal(patch.json().username, 'root2');
      patch = await call('PATCH', `/api/v1/credentials/${copy.id}`, { password: null });
      assert.equal(patch.statusCode, 400, patch.body);
      const del = await call('DELETE', `/api/v1/credentials/${copy.id}`);
      assert.equal(del.statusCode, 204);
      assert.equal((await call('GET', `/api/v1/credentials/${copy.id}`)).statusCode, 404);
    });

    test('credentials:read may list but not write', async () => {
      const viewer = await h.userWithRoles('cred-viewer', ['viewer']);
      const list = await h.inject({ url: '/api/v1/credentials', headers: bearer(viewer) });
      assert.equal(list.statusCode, 200);
      const post = await h.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        headers: bearer(viewer),
        payload: {
          name: 'x',
          scope: 'system',
          username: 'u',
          auth_method: 'password',
          password: 'p',
        },
      });
      assert.equal(post.statusCode, 403);
    });
  });
}
