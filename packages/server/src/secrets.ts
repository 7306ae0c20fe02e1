import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './db/schema.js';
import type { CursorCodec } from './audit/service.js';

/** SHA-256 of a token, hex: the only form in which bearer and refresh tokens are stored. */
export const hashToken = (token: string): string =>
  createHash('sha256').update(token).digest('hex');

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
