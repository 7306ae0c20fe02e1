import { X509Certificate } from 'node:crypto';

/** The public facts of the CA certificate that agents pin (`GET /api/v1/tls/ca`). */
export interface CaInfo {
  /** The certificate, PEM. */
  certificate: string;
  /** SHA-256 fingerprint, colon hex: what `vigil-agent enroll --ca-fingerprint` takes. */
  fingerprint_sha256: string;
  subject: string;
  /** RFC 3339. */
  not_before: string;
  /** RFC 3339. */
  not_after: string;
}

/** The facts of a CA certificate, read from its PEM once. */
export function caInfoOf(ca: { caPem: string; fingerprint: string }): CaInfo {
  const cert = new X509Certificate(ca.caPem);
  return {
    certificate: ca.caPem,
    fingerprint_sha256: ca.fingerprint,
    subject: cert.subject.replace(/\n/g, ', '),
    not_before: new Date(cert.validFrom).toISOString(),
    not_after: new Date(cert.validTo).toISOString(),
  };
}
