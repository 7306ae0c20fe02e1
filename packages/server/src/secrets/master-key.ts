import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createFileOnce, ownerOnly } from '../files.js';

/**
 * The master key that seals secrets at rest: 32 random bytes in `file` (mode 0600), created on
 * first use. It stays outside the database, so a copy of the database alone reveals no secret;
 * servers sharing one PostgreSQL database need the same file.
 * @throws Error when the file exists but does not hold a key.
 */
export function masterKey(file: string): Buffer {
  createFileOnce(file, `${randomBytes(32).toString('base64')}\n`);
  ownerOnly(file);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
