import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ensureAutoTls, fingerprintOf } from '../src/tls/pki.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Serves one HTTPS request with the material and fetches it, trusting only `ca`. */
async function handshake(cert: string, key: string, ca: string, host: string, servername?: string) {
  const server = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<string>((resolve, reject) => {
      https
        .get(
          { host, port, ca, servername, path: '/', headers: { host: servername ?? host } },
          (res) => {
            let body = '';
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve(body));
          },
        )
        .on('error', reject);
    });
  } finally {
    server.close();
  }
}

test('auto TLS: an ECDSA CA and a server certificate that verifies against ca.crt', async () => {
  const m = await ensureAutoTls(path.join(dir, 'tls'));
  assert.equal(m.origin, 'generated');
  const files = ['ca.crt', 'ca.key', 'server.crt', 'server.key'].map((f) =>
    path.join(dir, 'tls', f),
  );
  for (const f of files) assert.ok(statSync(f).isFile(), f);
  assert.equal(statSync(files[1]!).mode & 0o777, 0o600, 'ca.key is 0600');
  assert.equal(statSync(files[3]!).mode & 0o777, 0o600, 'server.key is 0600');

  const ca = readFileSync(files[0]!, 'utf8');
  const caCert = new X509Certificate(ca);
  assert.equal(caCert.ca, true);
  assert.equal(caCert.publicKey.asymmetricKeyType, 'ec');
  const leaf = new X509Certificate(m.cert);
  assert.ok(leaf.verify(caCert.publicKey), 'the server certificate is signed by the CA');
  assert.ok(leaf.checkIssued(caCert));
  for (const san of ['DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1'])
    assert.ok(leaf.subjectAltName?.includes(san), `${san} in ${leaf.subjectAltName}`);
  const hostname = os.hostname();
  if (/^[A-Za-z0-9.-]+$/.test(hostname) && hostname !== 'localhost')
    assert.ok(leaf.subjectAltName?.includes(`DNS:${hostname}`));
  assert.match(m.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(m.fingerprint, fingerprintOf(ca));

  // Real handshakes, trusting nothing but the generated CA, by name and by address.
  assert.equal(await handshake(m.cert, m.key, ca, '127.0.0.1', 'localhost'), 'ok');
  assert.equal(await handshake(m.cert, m.key, ca, '127.0.0.1'), 'ok');
  // And a certificate from another CA is refused.
  const other = await ensureAutoTls(path.join(dir, 'other'));
  await assert.rejects(
    handshake(m.cert, m.key, other.ca!, '127.0.0.1', 'localhost'),
    /self-signed|unable to verify|certificate/i,
  );
});

test('auto TLS reuses its files, and reissues only the server certificate when it is missing', async () => {
  const first = await ensureAutoTls(path.join(dir, 'tls'));
  const again = await ensureAutoTls(path.join(dir, 'tls'));
  assert.equal(again.origin, 'reused');
  assert.equal(again.fingerprint, first.fingerprint);
  assert.equal(again.cert, first.cert);
  unlinkSync(path.join(dir, 'tls', 'server.crt'));
  const renewed = await ensureAutoTls(path.join(dir, 'tls'));
  assert.equal(renewed.origin, 'renewed');
  assert.equal(renewed.fingerprint, first.fingerprint, 'same CA');
  assert.notEqual(renewed.cert, first.cert);
});
