import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, maskedConfig } from '../src/config/config.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-config-'));
const absent = path.join(dir, 'absent.toml');
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('defaults match the documented contract', () => {
  const c = loadConfig({ file: absent, fileRequired: false, env: {} });
  assert.equal(c.server.listen, '0.0.0.0:8443');
  assert.equal(c.server.tls, 'auto');
  assert.equal(c.server.body_limit_bytes, 1048576);
  assert.equal(c.storage.data_dir, './data');
  assert.equal(c.database.url, '');
  assert.equal(c.auth.access_token_ttl_seconds, 900);
  assert.equal(c.auth.allow_registration, false);
});

test('the file is overlaid by VIGIL_<SECTION>_<KEY> variables', () => {
  const f = file(
    'a.toml',
    '[server]\nlisten = "127.0.0.1:9000"\n[auth]\naccess_token_ttl_seconds = 60\n',
  );
  const c = loadConfig({
    file: f,
    env: {
      VIGIL_SERVER_LISTEN: '[::1]:9443',
      VIGIL_SERVER_TLS_CERT: '/c.pem',
      VIGIL_SERVER_TLS_KEY: '/k.pem',
      VIGIL_AUTH_ALLOW_REGISTRATION: 'true',
      VIGIL_DATABASE_URL: 'postgres://u:p@db:5432/vigil',
      VIGIL_TEST_DATABASE_URL: 'ignored: read by the test helpers only',
    },
  });
  assert.equal(c.server.listen, '[::1]:9443');
  assert.equal(c.auth.access_token_ttl_seconds, 60);
  assert.equal(c.auth.allow_registration, true);
  assert.equal(c.server.tls, 'files', 'cert and key select files');
  assert.equal(c.database.url, 'postgres://u:p@db:5432/vigil');
});

for (const [name, source, key, reason] of [
  [
    'unknown key in the file',
    { file: file('b.toml', '[server]\nlisen = "x:1"\n') },
    'server.lisen',
    /unknown key/,
  ],
  [
    'unknown section',
    { file: file('c.toml', '[srv]\nlisten = "x:1"\n') },
    'srv',
    /unknown section/,
  ],
  [
    'wrong type in the file',
    { file: file('d.toml', '[server]\nbody_limit_bytes = "big"\n') },
    'server.body_limit_bytes',
    /integer/,
  ],
  [
    'value out of range',
    { file: file('e.toml', '[auth]\naccess_token_ttl_seconds = 5\n') },
    'auth.access_token_ttl_seconds',
    /at least 30/,
  ],
  [
    'value not among choices',
    { file: file('f.toml', '[server]\ntls = "maybe"\n') },
    'server.tls',
    /one of auto, off, files/,
  ],
  [
    'malformed listen address',
    { file: file('g.toml', '[server]\nlisten = "8443"\n') },
    'server.listen',
    /HOST:PORT/,
  ],
  ['invalid TOML', { file: file('h.toml', '[server\n') }, path.join(dir, 'h.toml'), /invalid TOML/],
  [
    'missing named file',
    { file: path.join(dir, 'nope.toml') },
    path.join(dir, 'nope.toml'),
    /cannot read/,
  ],
  [
    'bad integer override',
    { file: absent, fileRequired: false, env: { VIGIL_SERVER_BODY_LIMIT_BYTES: '12abc' } },
    'VIGIL_SERVER_BODY_LIMIT_BYTES',
    /expected an integer/,
  ],
  [
    'bad boolean override',
    { file: absent, fileRequired: false, env: { VIGIL_AUTH_ALLOW_REGISTRATION: 'perhaps' } },
    'VIGIL_AUTH_ALLOW_REGISTRATION',
    /true or false/,
  ],
  [
    'unknown override',
    { file: absent, fileRequired: false, env: { VIGIL_SERVER_LISTN: '1.2.3.4:1' } },
    'VIGIL_SERVER_LISTN',
    /unknown configuration variable/,
  ],
  [
    'bad database URL',
    { file: absent, fileRequired: false, env: { VIGIL_DATABASE_URL: 'mysql://x' } },
    'VIGIL_DATABASE_URL',
    /postgres:\/\//,
  ],
  [
    'weak admin password',
    { file: absent, fileRequired: false, env: { VIGIL_ADMIN_PASSWORD: 'short' } },
    'VIGIL_ADMIN_PASSWORD',
    /12 characters/,
  ],
  [
    'cert without key',
    { file: absent, fileRequired: false, env: { VIGIL_SERVER_TLS_CERT: '/c.pem' } },
    'server.tls_key',
    /together/,
  ],
] as const) {
  test(`config error: ${name}`, () => {
    assert.throws(
      () => loadConfig({ env: {}, ...source }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.key, key);
        assert.match(err.reason, reason);
        return true;
      },
    );
  });
}

test('masking hides secrets but keeps the rest', () => {
  const c = loadConfig({
    file: absent,
    fileRequired: false,
    env: {
      VIGIL_ADMIN_PASSWORD: 'a very long secret',
      VIGIL_DATABASE_URL: 'postgres://vigil:s3cret@db/v',
    },
  });
  const m = maskedConfig(c);
  assert.equal(m.admin.password, '****');
  assert.equal(m.database.url, 'postgres://vigil:****@db/v');
  assert.equal(c.admin.password, 'a very long secret', 'the original is untouched');
  assert.equal(m.server.listen, c.server.listen);
});
