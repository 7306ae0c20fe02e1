import { VigilError } from '../errors.js';
import { CsrError, type CertificateAuthority, type IssuedCertificate } from '../tls/pki.js';

/** Checks and signs the certificate requests of native agents with the Vigil CA. */
export interface CsrSigner {
  /** The CA certificate (PEM) agents are handed with their own. */
  readonly caPem: string;
  /** @throws VigilError bad_data (`agent.csr_invalid`) when the CA would not sign it. */
  check(csr: string): Promise<void>;
  /**
   * A client certificate for `commonName`, valid `agents.certificate_lifetime_days`.
   * @throws VigilError bad_data (`agent.csr_invalid`).
   */
  sign(csr: string, commonName: string): Promise<IssuedCertificate>;
}

/** Refusals of the CA as the API's bad_data; anything else as it is. */
function asBadData(err: unknown): unknown {
  return err instanceof CsrError
    ? new VigilError('bad_data', err.message, { code: 'agent.csr_invalid' })
    : err;
}

/** A signer on `ca` whose certificates last `certificateDays`. */
export function createCsrSigner(ca: CertificateAuthority, certificateDays: number): CsrSigner {
  return {
    get caPem() {
      return ca.caPem;
    },
    async check(csr) {
      try {
        await ca.verify(csr);
      } catch (err) {
        throw asBadData(err);
      }
    },
    async sign(csr, commonName) {
      try {
        return await ca.sign(csr, { commonName, days: certificateDays });
      } catch (err) {
        throw asBadData(err);
      }
    },
  };
}
