import { createHmac } from 'node:crypto';
import type { CursorCodec } from '../audit/service.js';
import { safeEqual } from './tokens.js';

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
