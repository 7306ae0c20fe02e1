import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ownerOnly } from '../files.js';

/**
 * The master key that seals secrets at rest: 32 random bytes in `file` (mode 0600), created on
 * first use. It stays outside the database, so a copy of the database alone reveals no secret;
 * servers sharing one PostgreSQL database need the same file.
 * @throws Error when the file exists but does not hold a key.
 */
export function masterKey(file: string): Buffer {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  ownerOnly(file);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return key;
}
