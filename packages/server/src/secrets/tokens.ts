import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 of a token, hex: the only form in which bearer and refresh tokens are stored. */
export const hashToken = (token: string): string => hash('sha256', token, 'hex');

/** A fresh opaque token: a prefix naming its kind, then 32 random bytes, base64url. */
export const newToken = (prefix: string): string =>
  `${prefix}_${randomBytes(32).toString('base64url')}`;

/** Compares two strings in time that depends only on their lengths. */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
