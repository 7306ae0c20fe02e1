import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Seals and opens secrets kept in the database (AES-256-GCM under the master key). */
export interface Sealer {
  seal(plain: Uint8Array): string;
  /** @throws Error when the text was not sealed with this key or was altered. */
  open(sealed: string): Buffer;
}

/** A sealer: `v1.<iv>.<tag>.<ciphertext>` (base64url), a fresh 96-bit IV each time. */
export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the master key must be 32 bytes');
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain), c.final()]);
      return ['v1', iv, c.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [v, iv, tag, body, ...rest] = sealed.split('.');
      if (v !== 'v1' || !iv || !tag || body === undefined || rest.length > 0)
        throw new Error('not a sealed secret');
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64url')), d.final()]);
    },
  };
}
