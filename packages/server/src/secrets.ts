import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hash,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { ownerOnly } from './files.js';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from './db/schema.js';
import type { CursorCodec } from './audit/service.js';

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

/**
 * Returns the instance secret (32 random bytes) kept in the `settings` table, creating it on first
 * use. It is shared by every process on the same database, so a cursor signed by one verifies on
 * another.
 */
export async function instanceSecret(db: Kysely<Database>): Promise<Buffer> {
  await db
    .insertInto('settings')
    .values({ key: 'instance_secret', value: randomBytes(32).toString('base64') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db
    .selectFrom('settings')
    .select('value')
    .where('key', '=', 'instance_secret')
    .executeTakeFirstOrThrow();
  return Buffer.from(row.value, 'base64');
}

/** Cursors as base64url JSON plus an HMAC-SHA256 tag, so a tampered cursor is detected. */
export function createCursorCodec(key: Buffer): CursorCodec {
  const tag = (body: string) =>
    createHmac('sha256', key).update(body).digest('base64url').slice(0, 22);
  return {
    encode(payload) {
      const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
      return `${body}.${tag(body)}`;
    },
    decode(cursor) {
      const [body, mac, ...rest] = cursor.split('.');
      if (!body || !mac || rest.length > 0 || !safeEqual(mac, tag(body))) return undefined;
      try {
        return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}

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
