import { hash, verify } from '@node-rs/argon2';

// Argon2id (algorithm 2) with OWASP's recommended minimum: 19 MiB, two passes, one lane.
const OPTIONS = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

/** Hashes a password with argon2id; the result is a self-describing PHC string. */
export const hashPassword = (password: string): Promise<string> => hash(password, OPTIONS);

/** A hash of a random password, verified against when a user is unknown, to equalise timing. */
let decoy: Promise<string> | undefined;

/**
 * Verifies a password against a stored hash, or against a decoy when there is no user, so that a
 * wrong user name costs the same time as a wrong password.
 */
export async function verifyPassword(
  stored: string | undefined,
  password: string,
): Promise<boolean> {
  const target = stored ?? (await (decoy ??= hashPassword('decoy password that matches nothing')));
  try {
    const ok = await verify(target, password);
    return ok && stored !== undefined;
  } catch {
    return false;
  }
}
