import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A throwaway certificate authority for tests: signs CSRs and issues client certificates. */
export interface TestCa {
  readonly certPem: string;
  /** Signs a PEM CSR into a server certificate (its SANs copied from the request). */
  signServer(csrPem: string): Promise<string>;
  /** Issues a client certificate and its private key (PEM), by default valid for a day. */
  client(
    cn: string,
    validity?: { notBefore: Date; notAfter: Date },
  ): Promise<{ certPem: string; keyPem: string }>;
  /** Signs a PEM CSR into a client certificate for its subject, valid for 90 days. */
  signClient(csrPem: string): Promise<string>;
}

const pemKey = async (key: webcrypto.CryptoKey) =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as never), 'PRIVATE KEY');

/** The subjectAltName extension of a CSR (looked up by OID: the class lookup can miss it). */
function sanOf(
  csr: x509.Pkcs10CertificateRequest,
): x509.SubjectAlternativeNameExtension | undefined {
  const ext = csr.getExtension('2.5.29.17');
  return ext ? new x509.SubjectAlternativeNameExtension(ext.rawData) : undefined;
}

/** Creates a CA named `name`. */
export async function createTestCa(name = 'Vigil test CA'): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  let serial = 2;
  const issue = async (
    subject: string,
    publicKey: webcrypto.CryptoKey | x509.PublicKey,
    usage: string,
    sans: x509.SubjectAlternativeNameExtension | undefined,
    validity = { notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) },
  ) =>
    (
      await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject,
        issuer: ca.subject,
        ...validity,
        publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.ExtendedKeyUsageExtension([usage]),
          ...(sans ? [sans] : []),
        ],
      })
    ).toString('pem');
  return {
    certPem: ca.toString('pem'),
    async signServer(csrPem) {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) throw new Error('CSR signature does not verify');
      const sans = sanOf(csr);
      return issue(csr.subject, csr.publicKey, x509.ExtendedKeyUsage.serverAuth, sans);
    },
    async client(cn, validity) {
      const k = (await webcrypto.subtle.generateKey(ALG, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair;
      return {
        certPem: await issue(
          `CN=${cn}`,
          k.publicKey,
          x509.ExtendedKeyUsage.clientAuth,
          undefined,
          validity,
        ),
        keyPem: await pemKey(k.privateKey),
      };
    },
    async signClient(csrPem) {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) throw new Error('CSR signature does not verify');
      const at = Date.now();
      return issue(csr.subject, csr.publicKey, x509.ExtendedKeyUsage.clientAuth, undefined, {
        notBefore: new Date(at - 60_000),
        notAfter: new Date(at + 90 * 86_400_000),
      });
    },
  };
}

/** The subject CN and SAN values of a PEM CSR. */
export function csrNames(csrPem: string): { cn: string; sans: string[] } {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  const sans = sanOf(csr);
  return {
    cn: csr.subject.replace(/^CN=/, ''),
    sans: (sans?.names.items ?? []).map((n) => n.value),
  };
}
