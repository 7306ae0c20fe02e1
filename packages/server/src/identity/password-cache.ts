import { createHmac, randomBytes } from 'node:crypto';

/** A password check that passed: whose, against which stored hash, and until when it counts. */
interface Verified {
  userId: string;
  passwordHash: string;
  expiresAt: number;
}

/**
 * Remembers, for a few minutes, that a user name and password passed the password check, so
 * that clients sending HTTP Basic credentials with every request (Icinga Director's) do not pay
 * an Argon2id verification each time. Entries are keyed by an HMAC of the credentials under a
 * key made at start and never stored, so the memory holds nothing a password could be read
 * from. A hit counts only while the user's stored password hash is still the one checked
 * (a changed password misses); the caller checks that too, with the user's current row.
 */
export function createPasswordCache(opts: { ttlMs: number; maxEntries: number }) {
  const secret = randomBytes(32);
  const entries = new Map<string, Verified>();
  const keyOf = (username: string, password: string): string =>
    createHmac('sha256', secret).update(username).update('\0').update(password).digest('base64');
  return {
    /** The user a still-valid entry names for these credentials, with the hash it was checked against. */
    get(username: string, password: string, now: number): Verified | undefined {
      const key = keyOf(username, password);
      const hit = entries.get(key);
      if (!hit) return undefined;
      if (hit.expiresAt <= now) {
        entries.delete(key);
        return undefined;
      }
      return hit;
    },
    /** Records credentials that just passed the full check. */
    set(username: string, password: string, user: Omit<Verified, 'expiresAt'>, now: number) {
      if (entries.size >= opts.maxEntries) {
        // The oldest entry goes first (a Map keeps insertion order).
        const first = entries.keys().next();
        if (!first.done) entries.delete(first.value);
      }
      entries.set(keyOf(username, password), { ...user, expiresAt: now + opts.ttlMs });
    },
  };
}
