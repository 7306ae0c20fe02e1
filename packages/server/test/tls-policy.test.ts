import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { databaseKinds } from '../../../test/support/databases.js';
import { startListening, type ListeningServer } from '../../../test/support/listening.js';

/** A handshake with the given client limits: the negotiated protocol and suite, or the error. */
function handshake(
  server: ListeningServer,
  opts: tls.ConnectionOptions,
): Promise<{ protocol: string | null; cipher: string } | Error> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.port,
      ca: server.ca,
      servername: 'localhost',
      timeout: 10_000,
      ...opts,
    });
    socket.once('secureConnect', () => {
      const result = { protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      socket.end();
      resolve(result);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(new Error('timeout'));
    });
    socket.once('error', (err) => resolve(err));
  });
}

const [kind] = await databaseKinds();

describe('the HTTPS listener offers the intermediate TLS profile only', () => {
  let server: ListeningServer;
  before(async () => {
    server = await startListening(kind!);
  });
  after(() => server.close());

  test('TLS 1.3 works', async () => {
    const r = await handshake(server, { minVersion: 'TLSv1.3' });
    assert.ok(!(r instanceof Error), String(r));
    assert.equal(r.protocol, 'TLSv1.3');
  });

  for (const suite of [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
  ])
    test(`TLS 1.2 with ${suite} works`, async () => {
      const r = await handshake(server, { maxVersion: 'TLSv1.2', ciphers: suite });
      assert.ok(!(r instanceof Error), String(r));
      assert.equal(r.protocol, 'TLSv1.2');
      assert.equal(r.cipher, suite);
    });

  for (const suite of [
    'ECDHE-ECDSA-AES128-SHA',
    'ECDHE-ECDSA-AES256-SHA',
    'ECDHE-ECDSA-AES128-SHA256',
    'ECDHE-ECDSA-AES128-CCM8',
    'ECDHE-ECDSA-ARIA128-GCM-SHA256',
  ])
    test(`TLS 1.2 with ${suite} is refused`, async () => {
      const r = await handshake(server, { maxVersion: 'TLSv1.2', ciphers: suite });
      assert.ok(r instanceof Error, `negotiated ${JSON.stringify(r)}`);
    });

  test('TLS 1.1 is refused', async () => {
    const r = await handshake(server, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    assert.ok(r instanceof Error, `negotiated ${JSON.stringify(r)}`);
  });
});
