import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultConsoleDir, isFacePath } from '../src/http/console.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

const [sqlite] = await databaseKinds();
const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>';
const ASSET = 'console.log("vigil");';
const BIG = `${'export const line = "the console\'s code, long enough to be worth compressing";\n'.repeat(200)}`;
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** A GET over a real socket, the path sent exactly as written (no normalisation by a client). */
function rawGet(port: number, rawPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const assertConsoleHeaders = (headers: Record<string, unknown>) => {
  assert.equal(headers['content-security-policy'], CSP);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['x-frame-options'], 'DENY');
};

test('isFacePath: the faces keep their paths, the console takes the rest', () => {
  for (const [p, face] of [
    ['/api/v1/nope', true],
    ['/api', true],
    ['/API/v1/x', true],
    ['/director/host', true],
    ['/icingaweb2/x', true],
    ['/icingaweb/x', true],
    ['/oauth/nope', true],
    ['/agentconnector/nope', true],
    ['/metrics', true],
    ['/health', true],
    ['/', false],
    ['/hosts/abc', false],
    ['/apis', false],
    ['/healthz', false],
    ['/assets/index.js', false],
  ] as const)
    assert.equal(isFacePath(p), face, p);
});

test('the default console directory is packages/web/dist beside the server package', () => {
  assert.equal(defaultConsoleDir(), path.resolve(import.meta.dirname, '..', '..', 'web', 'dist'));
});

describe('the web console', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-'));
  let h: Harness;
  let port: number;

  before(async () => {
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), ASSET);
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(path.join(dir, 'assets', 'app-big123.js'), BIG);
    h = await startHarness(sqlite!, { env: { VIGIL_SERVER_CONSOLE_DIR: dir } });
    await h.vigil.http.listen({ host: '127.0.0.1', port: 0 });
    port = (h.vigil.http.server.address() as AddressInfo).port;
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/ and every unknown path outside the faces answer index.html, not cached', async () => {
    for (const url of ['/', '/hosts', '/hosts/abc/processes?sort=cpu', '/admin/users/']) {
      const res = await h.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, INDEX, url);
      assert.match(String(res.headers['content-type']), /^text\/html/, url);
      assert.equal(res.headers['cache-control'], 'no-cache', url);
      assertConsoleHeaders(res.headers);
    }
  });

  test('hashed assets are cached for good; other files are revalidated', async () => {
    const asset = await h.inject({ url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, ASSET);
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assertConsoleHeaders(asset.headers);
    const icon = await h.inject({ url: '/favicon.svg' });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
  });

  test('text files are gzipped for clients that take it, once; others get them plain', async () => {
    for (const enc of ['gzip', 'br, gzip;q=0.8', 'gzip, deflate, br, zstd', '*']) {
      const res = await h.inject({
        url: '/assets/app-big123.js',
        headers: { 'accept-encoding': enc },
      });
      assert.equal(res.statusCode, 200, enc);
      assert.equal(res.headers['content-encoding'], 'gzip', enc);
      assert.equal(res.headers.vary, 'accept-encoding', enc);
      assert.ok(res.rawPayload.length < BIG.length / 5, enc);
      assert.equal(gunzipSync(res.rawPayload).toString(), BIG, enc);
    }
    for (const enc of [undefined, 'identity', 'br', 'gzip;q=0', '*;q=0']) {
      const res = await h.inject({
        url: '/assets/app-big123.js',
        headers: enc === undefined ? {} : { 'accept-encoding': enc },
      });
      assert.equal(res.headers['content-encoding'], undefined, enc);
      assert.equal(res.body, BIG, enc);
    }
    // Small files are not worth it.
    const small = await h.inject({
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.body, ASSET);
  });

  test('a missing asset is 404 in the native envelope, not the page', async () => {
    const res = await h.inject({ url: '/assets/index-old999.js' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error.code, 'route.not_found');
  });

  test('HEAD answers the headers without a body', async () => {
    for (const url of ['/', '/hosts/x', '/assets/index-abc123.js']) {
      const res = await h.inject({ method: 'HEAD', url });
      assert.equal(res.statusCode, 200, url);
      assert.equal(res.body, '', url);
      assertConsoleHeaders(res.headers);
    }
  });

  test('the faces keep their own 404s', async () => {
    const api = await h.inject({ url: '/api/v1/nope' });
    assert.equal(api.statusCode, 404);
    assert.equal(api.json().error.code, 'route.not_found');
    assert.equal(api.headers['content-security-policy'], undefined);
    const oitc = await h.inject({ url: '/agentconnector/nope' });
    assert.equal(oitc.statusCode, 404);
    assert.equal(typeof oitc.json().error, 'string');
    const oauth = await h.inject({ url: '/oauth/nope' });
    assert.equal(oauth.statusCode, 404);
    assert.ok(oauth.json().error, oauth.body);
    for (const url of ['/director/nope', '/icingaweb2/nope', '/metrics/nope', '/health/nope']) {
      const res = await h.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /<!doctype html>/i, url);
    }
  });

  test('paths that leave the console directory are refused', async () => {
    for (const raw of [
      '/assets/../../etc/passwd',
      '/assets/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2fetc%2fpasswd',
      '/assets/%2e%2e%5c%2e%2e%5cetc%5cpasswd',
      '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
      '/assets/%00.js',
      '/assets/%zz',
    ]) {
      const res = await rawGet(port, raw);
      assert.ok(res.status === 404 || res.status === 400, `${raw}: ${res.status}`);
      assert.doesNotMatch(res.body, /root:/, raw);
    }
  });

  test('other methods on console paths are 404 or 405 in the native envelope', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const res = await h.inject({ method, url: '/', payload: {} });
      assert.ok(res.statusCode === 404 || res.statusCode === 405, `${method} ${res.statusCode}`);
      assert.ok(res.json().error.code, method);
    }
  });
});

describe('the web console, not built', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-console-empty-'));
  let h: Harness;
  before(async () => {
    h = await startHarness(sqlite!, { env: { VIGIL_SERVER_CONSOLE_DIR: dir } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/ answers 503 with how to build it; the API still answers', async () => {
    const res = await h.inject({ url: '/' });
    assert.equal(res.statusCode, 503);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /npm run build/);
    assert.equal((await h.inject({ url: '/api/v1/health' })).statusCode, 200);
  });
});
