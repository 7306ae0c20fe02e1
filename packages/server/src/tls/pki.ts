import 'reflect-metadata';
import {
  X509Certificate,
  createHash,
  createPublicKey,
  randomBytes,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { ownerOnly } from '../files.js';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { VigilError } from '../errors.js';

x509.cryptoProvider.set(webcrypto as never);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** The server certificate is reissued when it has fewer days left than this. */
const RENEW_BEFORE_DAYS = 30;

/** PEM material the HTTPS server needs, and where the CA certificate lives. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** PEM of the CA certificate; undefined when the operator supplied their own files. */
  ca?: string;
  caFile?: string;
  /** SHA-256 fingerprint of the CA (or, for operator files, the leaf) certificate: colon hex. */
  fingerprint: string;
  /** What happened at start: `generated`, `reused`, `renewed` or `files`. */
  origin: 'generated' | 'reused' | 'renewed' | 'files';
}

/** SHA-256 fingerprint of a PEM certificate as upper-case colon-separated hex. */
export function fingerprintOf(pem: string): string {
  const der = new X509Certificate(pem).raw;
  const hex = createHash('sha256').update(der).digest('hex').toUpperCase();
  return hex.match(/../g)!.join(':');
}

/** Writes a file atomically with the given mode, so a crash never leaves half a key behind. */
function writeSecure(file: string, data: string, mode: number): void {
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

const serial = (): string => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // A positive serial number, as RFC 5280 requires.
  return b.toString('hex');
};

const pemKey = async (key: webcrypto.CryptoKey): Promise<string> =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key as never), 'PRIVATE KEY');

const importKey = (pem: string): Promise<webcrypto.CryptoKey> =>
  webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(pem)[0]!, ALG, true, [
    'sign',
  ]) as Promise<webcrypto.CryptoKey>;

/** The names the generated server certificate covers. */
export function serverNames(): { dns: string[]; ips: string[] } {
  const host = os.hostname();
  const dns = ['localhost'];
  if (host && host !== 'localhost' && /^[A-Za-z0-9.-]+$/.test(host)) dns.push(host);
  return { dns, ips: ['127.0.0.1', '::1'] };
}

async function issueServerCert(
  caCert: x509.X509Certificate,
  caKey: webcrypto.CryptoKey,
): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const { dns, ips } = serverNames();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dns[dns.length - 1]}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + 397 * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await pemKey(keys.privateKey) };
}

function needsReissue(pem: string): boolean {
  const cert = new X509Certificate(pem);
  if (Date.parse(cert.validTo) - Date.now() < RENEW_BEFORE_DAYS * DAY_MS) return true;
  const sans = cert.subjectAltName ?? '';
  const { dns } = serverNames();
  return !dns.every((d) => sans.includes(`DNS:${d}`));
}

/** The Vigil CA as read from (or first written to) `<data>/tls/`. */
interface CaFiles {
  caPem: string;
  caKeyPem: string;
  generated: boolean;
}

async function ensureCaFiles(dir: string): Promise<CaFiles> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (name: string) => path.join(dir, name);
  // Material written by earlier versions, or under a lax umask, is tightened at every start.
  ownerOnly(dir, 0o700);
  ownerOnly(f('ca.key'));
  ownerOnly(f('server.key'));
  if (existsSync(f('ca.crt')) && existsSync(f('ca.key')))
    return {
      caPem: readFileSync(f('ca.crt'), 'utf8'),
      caKeyPem: readFileSync(f('ca.key'), 'utf8'),
      generated: false,
    };
  const keys = (await webcrypto.subtle.generateKey(ALG, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=Vigil CA ${os.hostname()}, O=Vigil`,
    notBefore: new Date(now - 5 * 60_000),
    notAfter: new Date(now + 3650 * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const caPem = ca.toString('pem');
  const caKeyPem = await pemKey(keys.privateKey);
  writeSecure(f('ca.key'), caKeyPem, 0o600);
  writeSecure(f('ca.crt'), caPem, 0o644);
  return { caPem, caKeyPem, generated: true };
}

/**
 * Ensures the automatic TLS material in `dir`: an ECDSA P-256 CA (`ca.crt`, `ca.key`, valid 10
 * years) and a server certificate signed by it (`server.crt`, `server.key`) for localhost,
 * 127.0.0.1, ::1 and the host name. Existing files are reused; the server certificate alone is
 * reissued when it nears expiry or the host name changed. Keys are written with mode 0600.
 */
export async function ensureAutoTls(dir: string): Promise<TlsMaterial> {
  const f = (name: string) => path.join(dir, name);
  const { caPem, caKeyPem, generated } = await ensureCaFiles(dir);
  let origin: TlsMaterial['origin'] = generated ? 'generated' : 'reused';

  let cert: string;
  let key: string;
  const haveServer = existsSync(f('server.crt')) && existsSync(f('server.key'));
  if (origin === 'reused' && haveServer && !needsReissue(readFileSync(f('server.crt'), 'utf8'))) {
    cert = readFileSync(f('server.crt'), 'utf8');
    key = readFileSync(f('server.key'), 'utf8');
  } else {
    if (origin === 'reused') origin = 'renewed';
    const issued = await issueServerCert(
      new x509.X509Certificate(caPem),
      await importKey(caKeyPem),
    );
    ({ cert, key } = issued);
    writeSecure(f('server.key'), key, 0o600);
    // The chain: leaf, then the CA, so clients that pin only the CA can build the path.
    cert = `${cert.trim()}\n${caPem.trim()}\n`;
    writeSecure(f('server.crt'), cert, 0o644);
  }
  return { cert, key, ca: caPem, caFile: f('ca.crt'), fingerprint: fingerprintOf(caPem), origin };
}

/** Loads operator-supplied certificate and key files. */
export function loadTlsFiles(certFile: string, keyFile: string): TlsMaterial {
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  return { cert, key, fingerprint: fingerprintOf(cert), origin: 'files' };
}

/** A certificate the CA issued. */
export interface IssuedCertificate {
  /** PEM of the certificate alone. */
  pem: string;
  /** Serial number, upper-case hex without separators (as Node's `serialNumber` gives it). */
  serial: string;
  /** SHA-256 fingerprint, colon hex. */
  fingerprint: string;
  notAfterMs: number;
}

/**
 * Why a certificate signing request was refused: always the requester's fault, so it is a
 * `bad_data` error (400) wherever it surfaces.
 */
export class CsrError extends VigilError {
  constructor(message: string) {
    super('bad_data', message, { code: 'agent.csr_invalid' });
    this.name = 'CsrError';
  }
}

/** The rule every key in a signed request must follow, as requesters are told it. */
export const CSR_KEY_RULE = 'the key must be ECDSA P-256 or P-384, or RSA of at least 2048 bits';

/**
 * Checks the key of a request against `CSR_KEY_RULE`: the CA vouches for these keys for years, and
 * a short RSA key can be factored (512 bits in hours).
 * @throws CsrError when the key is of another type, curve or size.
 */
function checkCsrKey(csr: x509.Pkcs10CertificateRequest): void {
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: Buffer.from(csr.publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
  } catch {
    throw new CsrError(
      `the public key of the certificate signing request is unreadable: ${CSR_KEY_RULE}`,
    );
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1') return;
    throw new CsrError(
      `the certificate signing request has an ECDSA key on curve ${details.namedCurve ?? 'unknown'}: ${CSR_KEY_RULE}`,
    );
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) >= 2048) return;
    throw new CsrError(
      `the certificate signing request has a ${details.modulusLength ?? 0}-bit RSA key: ${CSR_KEY_RULE}`,
    );
  }
  throw new CsrError(
    `the certificate signing request has a ${key.asymmetricKeyType ?? 'unknown'} key: ${CSR_KEY_RULE}`,
  );
}

/** The Vigil CA as the agents domain uses it: signs agent certificates. */
export interface CertificateAuthority {
  /** PEM of the CA certificate. */
  readonly caPem: string;
  /** SHA-256 fingerprint of the CA certificate, colon hex. */
  readonly fingerprint: string;
  /** Checks a PEM PKCS #10 request, its key (`CSR_KEY_RULE`) and its signature. @throws CsrError */
  verify(csrPem: string): Promise<void>;
  /**
   * Signs a PEM PKCS #10 request for `commonName`. The request's key and signature are
   * checked (`CSR_KEY_RULE`); its subject is replaced by `CN=<commonName>`. `server` adds the serverAuth usage
   * and keeps the request's subjectAltNames (an agent web server under Auto-TLS).
   * @throws CsrError when the request is malformed, its key breaks the rule, or its signature
   * does not verify.
   */
  sign(
    csrPem: string,
    opts: { commonName: string; days: number; server?: boolean },
  ): Promise<IssuedCertificate>;
  /** Issues a fresh key pair and client certificate (the server's identity towards pull agents). */
  issueClient(commonName: string, days: number): Promise<IssuedCertificate & { key: string }>;
}

const normalSerial = (hex: string): string => hex.replace(/^0+/, '').toUpperCase();

async function describe(cert: x509.X509Certificate): Promise<IssuedCertificate> {
  const pem = cert.toString('pem');
  return {
    pem,
    serial: normalSerial(cert.serialNumber),
    fingerprint: fingerprintOf(pem),
    notAfterMs: cert.notAfter.getTime(),
  };
}

/** Parses a PEM PKCS #10 request and checks its key and signature. @throws CsrError */
async function parseCsr(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem.trim());
  } catch {
    throw new CsrError('the certificate signing request is not a PEM PKCS #10 request');
  }
  checkCsrKey(csr);
  let valid: boolean;
  try {
    valid = await csr.verify();
  } catch {
    valid = false;
  }
  if (!valid) throw new CsrError('the signature of the certificate signing request is invalid');
  return csr;
}

/** Opens (creating on first use) the Vigil CA in `dir` for signing agent certificates. */
export async function openCertificateAuthority(dir: string): Promise<CertificateAuthority> {
  const { caPem, caKeyPem } = await ensureCaFiles(dir);
  const caCert = new x509.X509Certificate(caPem);
  const caKey = await importKey(caKeyPem);
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(caCert);

  const issue = async (
    publicKey: x509.PublicKey | webcrypto.CryptoKey,
    commonName: string,
    days: number,
    server: boolean,
    sans: x509.JsonGeneralName[],
  ) => {
    const now = Date.now();
    const usages = [x509.ExtendedKeyUsage.clientAuth];
    if (server) usages.unshift(x509.ExtendedKeyUsage.serverAuth);
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      authorityKeyId,
    ];
    if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    return x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: new x509.Name([{ CN: [commonName] }]).toString(),
      issuer: caCert.subject,
      notBefore: new Date(now - 5 * 60_000),
      notAfter: new Date(now + days * DAY_MS),
      signingAlgorithm: ALG,
      publicKey,
      signingKey: caKey,
      extensions,
    });
  };

  return {
    caPem,
    fingerprint: fingerprintOf(caPem),
    async verify(csrPem) {
      await parseCsr(csrPem);
    },
    async sign(csrPem, opts) {
      const csr = await parseCsr(csrPem);
      const sans: x509.JsonGeneralName[] = [];
      if (opts.server) {
        const raw = csr.getExtension('2.5.29.17');
        const ext = raw ? new x509.SubjectAlternativeNameExtension(raw.rawData) : undefined;
        for (const n of ext?.names.toJSON() ?? [])
          if (n.type === 'dns' || n.type === 'ip') sans.push(n);
      }
      const cert = await issue(csr.publicKey, opts.commonName, opts.days, !!opts.server, sans);
      return describe(cert);
    },
    async issueClient(commonName, days) {
      const keys = (await webcrypto.subtle.generateKey(ALG, true, [
        'sign',
        'verify',
      ])) as webcrypto.CryptoKeyPair;
      const cert = await issue(keys.publicKey, commonName, days, false, []);
      return { ...(await describe(cert)), key: await pemKey(keys.privateKey) };
    },
  };
}
