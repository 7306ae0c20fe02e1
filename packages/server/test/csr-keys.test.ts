import 'reflect-metadata';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { webcrypto } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { VigilError } from '../src/errors.js';
import { CSR_KEY_RULE, CsrError, openCertificateAuthority } from '../src/tls/pki.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { startHarness, type Harness } from '../../../test/support/harness.js';

x509.cryptoProvider.set(webcrypto as never);

type KeySpec =
  | { name: 'RSASSA-PKCS1-v1_5'; modulusLength: number }
  | { name: 'ECDSA'; namedCurve: string }
  | { name: 'Ed25519' };

/** A PEM request for `cn` signed by a fresh key of the given kind. */
async function csrWith(spec: KeySpec, cn = 'agent-01'): Promise<string> {
  const alg =
    spec.name === 'RSASSA-PKCS1-v1_5'
      ? { ...spec, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : spec.name === 'ECDSA'
        ? { ...spec, hash: spec.namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' }
        : spec;
  const keys = (await webcrypto.subtle.generateKey(alg, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm: alg,
  });
  return csr.toString('pem');
}

const rsa = (modulusLength: number): KeySpec => ({ name: 'RSASSA-PKCS1-v1_5', modulusLength });
const ec = (namedCurve: string): KeySpec => ({ name: 'ECDSA', namedCurve });

describe('the CA signs only requests with strong keys', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'vigil-csr-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, spec, ok] of [
    ['ECDSA P-256', ec('P-256'), true],
    ['ECDSA P-384', ec('P-384'), true],
    ['RSA 2048', rsa(2048), true],
    ['RSA 512', rsa(512), false],
    ['RSA 1024', rsa(1024), false],
    ['ECDSA P-521', ec('P-521'), false],
    ['Ed25519', { name: 'Ed25519' }, false],
  ] as const)
    test(`${name}: ${ok ? 'signed' : 'refused as bad_data, naming the rule'}`, async () => {
      const ca = await openCertificateAuthority(path.join(dir, 'tls'));
      const csr = await csrWith(spec);
      for (const server of [false, true]) {
        if (ok) {
          const cert = await ca.sign(csr, { commonName: 'agent-01', days: 1, server });
          assert.match(cert.pem, /BEGIN CERTIFICATE/);
          continue;
        }
        await assert.rejects(ca.sign(csr, { commonName: 'agent-01', days: 1, server }), (err) => {
          assert.ok(err instanceof CsrError);
          assert.ok(err instanceof VigilError);
          assert.equal(err.kind, 'bad_data');
          assert.equal(err.status, 400);
          assert.ok(err.message.includes(CSR_KEY_RULE), err.message);
          return true;
        });
      }
      if (ok) await ca.verify(csr);
      else await assert.rejects(ca.verify(csr), CsrError);
    });
});

for (const kind of await databaseKinds()) {
  describe(`enrollment refuses weak agent keys on ${kind.name}`, () => {
    let h: Harness;
    let admin: string;
    before(async () => {
      h = await startHarness(kind, { env: { VIGIL_SERVER_TLS: 'auto' } });
      admin = await h.login();
    });
    after(() => h.close());

    test('a 512-bit RSA request is a 400 naming the rule, with a token and pending alike', async () => {
      const created = await h.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: { authorization: `Bearer ${admin}` },
        payload: { name: 'weak-key' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const token = (created.json() as { enrollment_token: string }).enrollment_token;
      const weak = await csrWith(rsa(512), 'weak-key');
      for (const payload of [
        { token, csr: weak, hostname: 'weak-key' },
        { id: 'weak-pending', csr: weak, hostname: 'weak-pending' },
      ]) {
        const res = await h.inject({ method: 'POST', url: '/api/v1/agents/enroll', payload });
        assert.equal(res.statusCode, 400, res.body);
        const e = (res.json() as { error: { code: string; human_message: string } }).error;
        assert.equal(e.code, 'agent.csr_invalid');
        assert.ok(e.human_message.includes(CSR_KEY_RULE), e.human_message);
      }
      const strong = await h.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: { token, csr: await csrWith(ec('P-384'), 'weak-key'), hostname: 'weak-key' },
      });
      assert.equal(strong.statusCode, 201, strong.body);
    });
  });
}
