import { createHash, createPublicKey } from 'node:crypto';
import ssh2 from 'ssh2';
import { VigilError } from '../errors.js';

/** What a private key tells about itself, as `ssh-keygen -l` shows it. */
export interface KeyInfo {
  /** `SHA256:` and the unpadded base64 SHA-256 of the public key blob. */
  fingerprint: string;
  /** ssh-keygen's name of the type: `ED25519`, `RSA`, `ECDSA`, `DSA`. */
  type: string;
  bits: number;
}

const TYPES: Record<string, { type: string; bits?: number }> = {
  'ssh-ed25519': { type: 'ED25519', bits: 256 },
  'ssh-rsa': { type: 'RSA' },
  'ssh-dss': { type: 'DSA' },
  'ecdsa-sha2-nistp256': { type: 'ECDSA', bits: 256 },
  'ecdsa-sha2-nistp384': { type: 'ECDSA', bits: 384 },
  'ecdsa-sha2-nistp521': { type: 'ECDSA', bits: 521 },
};

/**
 * Reads a private key (OpenSSH, PKCS#1 or PKCS#8 PEM), opening it with `passphrase` when it is
 * encrypted.
 * @throws VigilError bad_data (`credential.invalid_key`) for a malformed key, a public key, an
 * encrypted key without its passphrase or with a wrong one, or a type SSH does not use.
 */
export function inspectPrivateKey(pem: string, passphrase?: string): KeyInfo {
  const invalid = (why: string) =>
    new VigilError('bad_data', `private_key: ${why}`, { code: 'credential.invalid_key' });
  const key = ssh2.utils.parseKey(pem, passphrase);
  if (key instanceof Error)
    throw invalid(
      /passphrase/i.test(key.message)
        ? passphrase
          ? 'the passphrase does not open it'
          : 'it is encrypted: give private_key_passphrase'
        : 'not a private key SSH can use',
    );
  if (!key.isPrivateKey()) throw invalid('this is a public key');
  const known = TYPES[key.type];
  if (!known) throw invalid(`key type ${key.type} is not supported`);
  const blob = key.getPublicSSH();
  let bits = known.bits;
  if (bits === undefined) {
    const details = createPublicKey(key.getPublicPEM()).asymmetricKeyDetails;
    bits = details?.modulusLength ?? 0;
  }
  return {
    fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    type: known.type,
    bits,
  };
}
