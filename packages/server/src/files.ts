import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Narrows an existing file or directory to owner-only access: 0600 for a file, 0700 for a
 * directory. Files that hold secrets (keys, the database) go through it at every start, so an
 * installation made under a lax umask, or by a version that wrote them 0644, is tightened too.
 * Does nothing when the path does not exist.
 */
export function ownerOnly(file: string, mode: 0o600 | 0o700 = 0o600): void {
  if (existsSync(file)) chmodSync(file, mode);
}

/**
 * Creates `file` (mode 0600, its directory 0700) holding `content`, unless it exists: the content
 * is written to a temporary file first and linked into place, so that a process reading the
 * file never sees it half written, and of several processes starting at once exactly one
 * creates it. Returns false when the file was there already.
 */
export function createFileOnce(file: string, content: string): boolean {
  if (existsSync(file)) return false;
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(temporary, file);
    return true;
  } catch (err) {
    // Another process made it first: its content is the one.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return false;
  } finally {
    unlinkSync(temporary);
  }
}
