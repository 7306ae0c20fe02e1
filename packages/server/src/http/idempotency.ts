import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';
import type { Sealer } from '../secrets/sealer.js';

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** A key claimed this long ago whose request never finished was abandoned. */
const ABANDONED_MS = 5 * 60_000;
/** How long a request waits for another one running under the same key. */
const WAIT_MS = 30_000;

/** Whether a route takes `Idempotency-Key`: accepted, or required (400 without). */
export type IdempotencyMode = 'optional' | 'required';

/** A key as its caller holds it: keys belong to the caller, so two callers never share one. */
export interface IdempotencyKey {
  /** The caller's user id, or `ip:` and its address when anonymous. */
  identity: string;
  key: string;
}

type Claim = IdempotencyKey;

/** A kept key and, once its request finished, its answer (the body sealed); times in epoch ms. */
export interface IdempotencyRow extends IdempotencyKey {
  /** SHA-256 of the method, path and canonical body of the request that claimed the key. */
  request_hash: string;
  method: string;
  path: string;
  /** The answer's status; null while the request runs. */
  status: number | null;
  response: string | null;
  content_type: string | null;
  created_at: number;
  expires_at: number;
}

/** Where keys and their answers are kept. Lookups return undefined when absent. */
export interface IdempotencyStore {
  /** Forgets the key when it expired at or before `atMs`. */
  deleteExpired(k: IdempotencyKey, atMs: number): Promise<void>;
  /** Claims a key; false when it is already held (then nothing is written). */
  insert(row: IdempotencyRow): Promise<boolean>;
  find(k: IdempotencyKey): Promise<IdempotencyRow | undefined>;
  /** Forgets the key while its request has not finished (no answer kept). */
  deleteUnfinished(k: IdempotencyKey): Promise<void>;
  delete(k: IdempotencyKey): Promise<void>;
  /** Keeps the answer of the key's request. */
  saveAnswer(
    k: IdempotencyKey,
    answer: Pick<IdempotencyRow, 'status' | 'response' | 'content_type'>,
  ): Promise<void>;
  /** At most `limit` keys that expired at or before `atMs`. */
  expiredKeys(atMs: number, limit: number): Promise<IdempotencyKey[]>;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim?: Claim;
  }
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A digest of what the request asks for: method, path and body (keys sorted). */
function fingerprint(request: FastifyRequest): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(`${request.method} ${request.url.split('?')[0]}\n`)
    .update(JSON.stringify(canonical(request.body ?? null)))
    .digest('hex');
}

/**
 * `Idempotency-Key` (OpenWatch): the first request with a key runs and its answer is kept for 24
 * hours; a retry with the same key and the same request gets that answer again (with
 * `Idempotent-Replayed: true`), without running the operation twice, even when it arrives while
 * the first still runs; the same key with a different request is 409 `idempotency.key_reused`.
 * Keys belong to the caller: two users never share one. Answers of 5xx are not kept, so that a
 * retry runs again; the kept ones are sealed, as they may carry one-time secrets.
 */
export function createIdempotency(deps: {
  store: IdempotencyStore;
  now: () => number;
  sealer: Sealer;
}) {
  const { store, now } = deps;

  async function claim(c: Claim, hash: string, method: string, path: string): Promise<boolean> {
    const at = now();
    // An expired key is forgotten first.
    await store.deleteExpired(c, at);
    return store.insert({
      identity: c.identity,
      key: c.key,
      request_hash: hash,
      method,
      path,
      status: null,
      response: null,
      content_type: null,
      created_at: at,
      expires_at: at + IDEMPOTENCY_TTL_MS,
    });
  }

  return {
    /**
     * Before the handler: claims the key, or answers from it (replay), or refuses.
     * @returns true when the request was answered here.
     */
    async before(
      request: FastifyRequest,
      reply: FastifyReply,
      mode: IdempotencyMode,
    ): Promise<boolean> {
      const header = request.headers['idempotency-key'];
      if (header === undefined) {
        if (mode === 'required')
          throw new VigilError('bad_data', 'this operation needs an Idempotency-Key header', {
            code: 'idempotency.key_required',
          });
        return false;
      }
      if (typeof header !== 'string' || !KEY_PATTERN.test(header))
        throw new VigilError(
          'bad_data',
          'Idempotency-Key must be 1–255 printable ASCII characters',
          { code: 'idempotency.key_invalid' },
        );
      const c: Claim = { identity: request.identity?.userId ?? `ip:${request.ip}`, key: header };
      const hash = fingerprint(request);
      const path = request.url.split('?')[0]!;
      if (await claim(c, hash, request.method, path)) {
        request.idempotencyClaim = c;
        return false;
      }
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const row = await store.find(c);
        if (!row) {
          // The first request failed and let go of the key: this one runs.
          if (await claim(c, hash, request.method, path)) {
            request.idempotencyClaim = c;
            return false;
          }
          continue;
        }
        if (row.request_hash !== hash)
          throw new VigilError(
            'conflict',
            'this Idempotency-Key was used for a different request',
            { code: 'idempotency.key_reused' },
          );
        if (row.status === null && now() - Number(row.created_at) > ABANDONED_MS) {
          // Its request never finished (the process stopped): let this one run.
          await store.deleteUnfinished(c);
          continue;
        }
        if (row.status !== null) {
          void reply
            .code(Number(row.status))
            .header('idempotent-replayed', 'true')
            .header('content-type', row.content_type ?? 'application/json; charset=utf-8');
          // Answers may carry secrets (a one-time token, a temporary password): kept sealed.
          void reply.send(row.response ? deps.sealer.open(row.response).toString('utf8') : '');
          return true;
        }
        if (Date.now() > deadline)
          throw new VigilError(
            'conflict',
            'a request with this Idempotency-Key is still running; retry later',
            { code: 'idempotency.in_progress', headers: { 'retry-after': '5' } },
          );
        await new Promise((r) => setTimeout(r, 25));
      }
    },

    /** After the handler: keeps the answer for the claimed key (or lets it go on 5xx). */
    async after(request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<void> {
      const c = request.idempotencyClaim;
      if (!c) return;
      request.idempotencyClaim = undefined;
      if (reply.statusCode >= 500) {
        await store.delete(c);
        return;
      }
      await store.saveAnswer(c, {
        status: reply.statusCode,
        response: deps.sealer.seal(
          Buffer.from(
            typeof payload === 'string'
              ? payload
              : Buffer.isBuffer(payload)
                ? payload.toString('utf8')
                : '',
          ),
        ),
        content_type: String(reply.getHeader('content-type') ?? 'application/json'),
      });
    },

    /** Forgets expired keys, in bounded batches. */
    async expire(limit = 1000): Promise<number> {
      const old = await store.expiredKeys(now(), limit);
      for (const o of old) await store.delete(o);
      return old.length;
    },
  };
}

export type Idempotency = ReturnType<typeof createIdempotency>;
