import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { databaseKinds } from '../support/databases.js';
import { startServe } from '../support/process.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'vigil-serve-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

for (const kind of await databaseKinds()) {
  describe(`vigil serve on ${kind.name}`, () => {
    test('first start: TLS auto, admin password printed once, health over verified HTTPS', async () => {
      const created = await kind.create();
      await created.db.close();
      const dataDir = mkdtempSync(path.join(tmp, 'data-'));
      const env: Record<string, string> = {
        VIGIL_STORAGE_DATA_DIR: dataDir,
        VIGIL_SERVER_LISTEN: '127.0.0.1:0',
      };
      if (created.url) env.VIGIL_DATABASE_URL = created.url;
      try {
        const s = await startServe(env);
        const caFile = path.join(dataDir, 'tls', 'ca.crt');
        const ca = readFileSync(caFile, 'utf8');
        const pw = /Created user 'admin' with password: (\S+)/.exec(s.stderr())?.[1];
        assert.ok(pw, s.stderr());
        const file = path.join(dataDir, 'initial-admin-password');
        // The console's URL first, then where the initial password is (never the password).
        assert.deepEqual(s.stderr().split('\n').slice(0, 2), [
          `Vigil console: https://127.0.0.1:${s.port}/`,
          `Initial admin password: ${file}`,
        ]);
        assert.equal(readFileSync(file, 'utf8').trim(), pw);
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.ok(s.stderr().includes(`CA certificate: ${caFile}`));
        const fp = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(s.stderr())?.[1];
        assert.ok(fp);
        assert.ok(!s.stdout().includes(pw), 'the password is not in the JSON log');

        const dispatcher = new Agent({ connect: { ca, servername: 'localhost' } });
        const health = await request(`https://127.0.0.1:${s.port}/api/v1/health`, { dispatcher });
        assert.equal(health.statusCode, 200);
        // The bundle finds the console beside it: the page, or how to build it when it is not.
        const page = await request(`https://127.0.0.1:${s.port}/`, { dispatcher });
        const pageText = await page.body.text();
        assert.ok(page.statusCode === 200 || /npm run build/.test(pageText), pageText);
        assert.match(String(page.headers['content-type']), /^text\/html/);
        assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
        assert.deepEqual(await health.body.json(), {
          status: 'healthy',
          db_connected: true,
          version: '0.1.0',
        });
        const login = await request(`https://127.0.0.1:${s.port}/api/v1/auth/login`, {
          dispatcher,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: pw }),
        });
        assert.equal(login.statusCode, 200);
        const { access_token: token } = (await login.body.json()) as { access_token: string };
        const changed = await request(`https://127.0.0.1:${s.port}/api/v1/auth/me/password`, {
          dispatcher,
          method: 'PUT',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ current_password: pw, new_password: 'a changed admin password' }),
        });
        assert.ok(changed.statusCode < 300, String(changed.statusCode));
        await changed.body.dump();
        await dispatcher.close();
        assert.equal(await s.stop(), 0);
        for (const line of s.stdout().trim().split('\n')) JSON.parse(line);

        // Second start: no new password, same CA.
        const again = await startServe(env);
        assert.doesNotMatch(again.stderr(), /Created user/);
        // The password was changed: the file is no longer pointed to.
        assert.match(again.stderr(), /^Vigil console: https:\/\/127\.0\.0\.1:\d+\/\n/);
        assert.doesNotMatch(again.stderr(), /Initial admin password/);
        assert.ok(again.stderr().includes(fp));
        assert.equal(await again.stop(), 0);
      } finally {
        await created.drop();
      }
    });

    test('SIGTERM while a slow request is in flight completes that request, then exits 0', async () => {
      const created = await kind.create();
      await created.db.close();
      const dataDir = mkdtempSync(path.join(tmp, 'data-'));
      const env: Record<string, string> = {
        VIGIL_STORAGE_DATA_DIR: dataDir,
        VIGIL_SERVER_LISTEN: '127.0.0.1:0',
        VIGIL_ADMIN_PASSWORD: 'slow request password',
      };
      if (created.url) env.VIGIL_DATABASE_URL = created.url;
      try {
        const s = await startServe(env);
        const ca = readFileSync(path.join(dataDir, 'tls', 'ca.crt'));
        const body = JSON.stringify({ username: 'admin', password: 'slow request password' });
        const socket = tls.connect({
          host: '127.0.0.1',
          port: s.port,
          ca,
          servername: 'localhost',
        });
        await new Promise<void>((r) => socket.once('secureConnect', () => r()));
        let response = '';
        socket.on('data', (c) => (response += c));
        const closed = new Promise<void>((r) => socket.on('close', () => r()));
        socket.write(
          `POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        );
        socket.write(body.slice(0, 10));
        await new Promise((r) => setTimeout(r, 300));
        s.child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 700));
        assert.equal(s.child.exitCode, null, 'still running while the request is in flight');
        socket.write(body.slice(10));
        const code = await s.exited;
        await closed;
        assert.match(response, /^HTTP\/1\.1 200 /);
        assert.match(response, /"access_token"/);
        assert.equal(code, 0);
        assert.match(s.stdout(), /shutting down/);
      } finally {
        await created.drop();
      }
    });
  });
}

test('TLS off serves plain HTTP with a loud warning', async () => {
  const dataDir = mkdtempSync(path.join(tmp, 'data-'));
  const s = await startServe({
    VIGIL_STORAGE_DATA_DIR: dataDir,
    VIGIL_SERVER_LISTEN: '127.0.0.1:0',
    VIGIL_SERVER_TLS: 'off',
    VIGIL_ADMIN_PASSWORD: 'plain http password',
  });
  try {
    assert.match(s.url, /^http:\/\//);
    assert.match(s.stderr(), /WARNING: TLS is off/);
    const res = await request(`http://127.0.0.1:${s.port}/health`);
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { status: string }).status, 'ok');
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('a configuration error stops serve with exit 1 and the key named', async () => {
  const { runVigil } = await import('../support/process.js');
  const r = await runVigil(['serve'], { env: { VIGIL_SERVER_LISTEN: 'nowhere' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /VIGIL_SERVER_LISTEN: expected HOST:PORT/);
});
