import { chmodSync, existsSync } from 'node:fs';

/**
 * Narrows an existing file or directory to owner-only access: 0600 for a file, 0700 for a
 * directory. Files that hold secrets (keys, the database) go through it at every start, so an
 * installation made under a lax umask, or by a version that wrote them 0644, is tightened too.
 * Does nothing when the path does not exist.
 */
export function ownerOnly(file: string, mode: 0o600 | 0o700 = 0o600): void {
  if (existsSync(file)) chmodSync(file, mode);
}
