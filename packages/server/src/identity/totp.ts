import { createHmac, randomBytes } from 'node:crypto';
import { safeEqual } from '../secrets/tokens.js';

/** TOTP (RFC 6238) as authenticator apps use it: HMAC-SHA1, 6 digits, 30-second steps. */
export const TOTP_STEP_SECONDS = 30;
const DIGITS = 6;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** A new shared secret: 20 random bytes (160 bits, RFC 4226's recommendation). */
export const newTotpSecret = (): Buffer => randomBytes(20);

/** The time step of an epoch-millisecond time. */
export const stepOf = (ms: number): number => Math.floor(ms / 1000 / TOTP_STEP_SECONDS);

/** The code of one time step (HOTP of the step counter, RFC 4226 dynamic truncation). */
export function totpCode(secret: Uint8Array, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', secret).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** DIGITS;
  return String(n).padStart(DIGITS, '0');
}

/**
 * The step whose code `otp` is, within one step either side of `now` (clock drift), and only
 * after `lastUsedStep` (a code is good once); undefined when none matches.
 */
export function matchTotp(
  secret: Uint8Array,
  otp: string,
  now: number,
  lastUsedStep: number | null,
): number | undefined {
  const current = stepOf(now);
  let found: number | undefined;
  // Every candidate is compared, in constant time, whatever matches.
  for (const step of [current - 1, current, current + 1])
    if (safeEqual(totpCode(secret, step), otp) && (lastUsedStep === null || step > lastUsedStep))
      found ??= step;
  return found;
}

/** The otpauth:// URI an authenticator app reads (from a QR code). */
export function provisioningUri(secret: Uint8Array, account: string, issuer = 'Vigil'): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({
    secret: base32(secret),
    issuer,
    algorithm: 'SHA1',
    digits: String(DIGITS),
    period: String(TOTP_STEP_SECONDS),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
