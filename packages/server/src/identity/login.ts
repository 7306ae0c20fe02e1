import type { TokenPair } from '@vigil/protocol';
import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { verifyPassword } from '../secrets/passwords.js';
import type { Sealer } from '../secrets/sealer.js';
import { summary, type IdentityStore, type IdentityStores, type UserRow } from './model.js';
import { pairBody, type Sessions } from './sessions.js';
import { createLoginThrottle, type ThrottlePolicy, type ThrottleSubject } from './throttle.js';
import { matchTotp } from './totp.js';

const INVALID_CREDENTIALS = () =>
  new VigilError('unauthenticated', 'invalid username or password', {
    code: 'auth.invalid_credentials',
  });

/**
 * Logins: the check of a user name, password and one-time code behind the login throttle, with
 * every failure audited, and the session a successful login opens.
 */
export function createLogin(deps: {
  store: IdentityStore;
  audited: Audited<IdentityStores>;
  sessions: Pick<Sessions, 'openSession'>;
  tokens: { accessTtlSeconds: number; refreshTtlSeconds: number };
  now: () => number;
  sealer: Sealer;
  throttle?: ThrottlePolicy;
}) {
  const { store, audited, now } = deps;
  const throttle = createLoginThrottle(now, deps.throttle);

  /**
   * Checks a user name, password and (with TOTP on) one-time code, with failures throttled
   * and audited. A wrong password, an unknown user and a disabled user all fail the same way.
   * @throws VigilError unauthenticated `auth.invalid_credentials`, `auth.mfa_required`,
   * `auth.mfa_invalid`; too_many_requests `auth.too_many_attempts`.
   */
  async function checkCredentials(
    input: { username: string; password: string; otp?: string },
    ctx: Omit<RequestContext, 'actor'>,
  ): Promise<UserRow> {
    // The attempt counts before its password is checked: concurrent guesses cannot all pass
    // the throttle while the first ones are still being verified.
    throttle.attempt(input.username, ctx.sourceAddress);
    const user = await store.userByName(input.username);
    const ok = await verifyPassword(user?.password_hash, input.password);
    if (!ok || !user || user.disabled_at !== null) {
      await audited(
        {
          ...ctx,
          actor: { type: 'user', id: user?.id ?? null, label: input.username.slice(0, 128) },
        },
        { action: 'auth.login_failed', resourceType: 'user', resourceId: user?.id },
        async () => undefined,
      );
      throw INVALID_CREDENTIALS();
    }
    if (user.mfa_enabled_at !== null && user.mfa_secret !== null) {
      const failMfa = async (code: string, message: string) => {
        // A missing code is a step of a normal login, not a guess.
        if (code === 'auth.mfa_required') throttle.forgive(input.username, ctx.sourceAddress);
        await audited(
          { ...ctx, actor: { type: 'user', id: user.id, label: user.username } },
          {
            action: 'auth.login_failed',
            resourceType: 'user',
            resourceId: user.id,
            detail: { reason: code },
          },
          async () => undefined,
        );
        throw new VigilError('unauthenticated', message, { code });
      };
      if (input.otp === undefined)
        await failMfa(
          'auth.mfa_required',
          'this account uses two-factor authentication: send the current code as `otp`',
        );
      const step = matchTotp(
        deps.sealer.open(user.mfa_secret),
        input.otp!,
        now(),
        user.mfa_last_step,
      );
      if (step === undefined || !(await store.useMfaStep(user.id, step)))
        await failMfa('auth.mfa_invalid', 'the one-time code is wrong, expired or already used');
    }
    throttle.succeeded(input.username, ctx.sourceAddress);
    return user;
  }

  return {
    checkCredentials,

    /**
     * Checks a user name and password and opens a session. A wrong password, an unknown user and a
     * disabled user all fail the same way, in the same time.
     * @throws VigilError unauthenticated `auth.invalid_credentials`.
     */
    async login(
      input: { username: string; password: string; otp?: string },
      ctx: Omit<RequestContext, 'actor'>,
    ): Promise<TokenPair> {
      const user = await checkCredentials(input, ctx);
      const roles = await store.rolesOf(user.id);
      const opened = await deps.sessions.openSession(user, ctx, null, deps.tokens, 'auth.login');
      return pairBody(
        { ...opened, refresh: opened.refresh!, refreshExp: opened.refreshExp! },
        summary({ ...user, last_login_at: opened.at }, roles),
        opened.at,
      );
    },

    /**
     * Runs the check of a secret (a signed-in user's password, an API client's secret) behind the
     * login throttle: the attempt is counted before `check` starts, atomically with the check of
     * the wait, and taken back off the count when `check` answers true.
     * @returns what `check` answered.
     * @throws VigilError too_many_requests `auth.too_many_attempts` (with `Retry-After`) while a
     * wait is on, without running `check`.
     */
    async throttledCheck(
      subject: ThrottleSubject,
      address: string | null,
      check: () => Promise<boolean>,
    ): Promise<boolean> {
      throttle.attempt(subject, address);
      const ok = await check();
      if (ok) throttle.succeeded(subject, address);
      return ok;
    },
  };
}
