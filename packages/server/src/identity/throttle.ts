import { VigilError } from '../errors.js';

/**
 * Whose secret an attempt tries: a user's password (a login, a password change) or an API
 * client's secret (client authentication at the token endpoint), counted apart.
 */
export type ThrottleSubject = { user: string } | { client: string };

/** How failed logins slow further attempts down. */
export interface ThrottlePolicy {
  /** Failures of one user name (or one API client id) before each further attempt must wait. */
  perUsername: number;
  /** Failures from one address (any user names) before the same. */
  perAddress: number;
  /** The first wait, doubled with each further failure, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A key's failures are forgotten this long after its last one. */
  forgetMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  perUsername: 5,
  perAddress: 20,
  baseDelayMs: 1_000,
  maxDelayMs: 15 * 60_000,
  forgetMs: 60 * 60_000,
};

/** Entries kept at most; beyond, the oldest are dropped (a flood of names cannot grow memory). */
const MAX_KEYS = 50_000;

interface Entry {
  failures: number;
  last: number;
}

/**
 * Counts login attempts per user name and per source address, in this process. An attempt is
 * counted when it starts, before its password is checked, in the same synchronous step as the
 * check of the wait: however many attempts arrive at once, no more than the threshold are
 * evaluated before the waits begin. A successful attempt is taken back off the count. Past a
 * threshold, each further attempt must wait a delay that doubles with every failure: until it has
 * passed, attempts are refused with 429 and `Retry-After`, whatever the password. User names that
 * do not exist are counted the same way, so the answers tell nothing about which ones do. API
 * client secrets are counted the same way, per client id (and per address, with passwords).
 */
export function createLoginThrottle(now: () => number, policy: ThrottlePolicy = DEFAULT_THROTTLE) {
  const entries = new Map<string, Entry>();

  const waitFor = (key: string, threshold: number): number => {
    const e = entries.get(key);
    if (!e) return 0;
    const t = now();
    if (t - e.last > policy.forgetMs) {
      entries.delete(key);
      return 0;
    }
    if (e.failures < threshold) return 0;
    const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (e.failures - threshold));
    return Math.max(0, e.last + delay - t);
  };

  const bump = (key: string) => {
    const e = entries.get(key);
    const t = now();
    if (e && t - e.last <= policy.forgetMs) {
      e.failures += 1;
      e.last = t;
      // Most recently failed last: the map's order is the eviction order.
      entries.delete(key);
      entries.set(key, e);
    } else {
      entries.delete(key);
      entries.set(key, { failures: 1, last: t });
    }
    while (entries.size > MAX_KEYS) entries.delete(entries.keys().next().value!);
  };

  const takeBack = (key: string) => {
    const e = entries.get(key);
    if (!e) return;
    e.failures -= 1;
    if (e.failures <= 0) entries.delete(key);
  };

  const userKey = (subject: string | ThrottleSubject) =>
    typeof subject === 'string' || 'user' in subject
      ? `u:${(typeof subject === 'string' ? subject : subject.user).toLowerCase()}`
      : `c:${subject.client}`;
  const addrKey = (address: string | null) => `a:${address ?? '?'}`;

  return {
    /**
     * Starts an attempt: refuses it while a wait is on, else counts it as a failure until
     * `succeeded` or `forgive` says otherwise. Synchronous, so that no other attempt can pass
     * between the check and the count. A plain string is a user name.
     * @throws VigilError too_many_requests `auth.too_many_attempts` while a wait is on.
     */
    attempt(username: string | ThrottleSubject, address: string | null): void {
      const ms = Math.max(
        waitFor(userKey(username), policy.perUsername),
        waitFor(addrKey(address), policy.perAddress),
      );
      if (ms > 0)
        throw new VigilError(
          'too_many_requests',
          'too many failed attempts: wait before trying again',
          {
            code: 'auth.too_many_attempts',
            headers: { 'retry-after': String(Math.ceil(ms / 1000)) },
          },
        );
      bump(userKey(username));
      bump(addrKey(address));
    },
    /** An attempt that was not a guess (a login step asking for more) is taken off the count. */
    forgive(username: string | ThrottleSubject, address: string | null): void {
      takeBack(userKey(username));
      takeBack(addrKey(address));
    },
    /** A successful attempt clears its user name's count, and is taken off its address's. */
    succeeded(username: string | ThrottleSubject, address: string | null): void {
      entries.delete(userKey(username));
      takeBack(addrKey(address));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
