import type { Audited } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { hashPassword, verifyPassword } from '../secrets/passwords.js';
import type { Sealer } from '../secrets/sealer.js';
import { checkPassword, userOf, viewOf } from './admin-common.js';
import { notAMachine, type Identity, type IdentityStore, type IdentityStores } from './model.js';
import type { IdentityService } from './service.js';
import { base32, matchTotp, newTotpSecret, provisioningUri } from './totp.js';

/**
 * What users do to their own account: their e-mail address, their password, and turning on
 * two-factor authentication (TOTP). A machine client has no account (403 `auth.not_a_user`).
 */
export function createAccount(deps: {
  store: IdentityStore;
  audited: Audited<IdentityStores>;
  identity: Pick<IdentityService, 'throttledCheck'>;
  now: () => number;
  sealer: Sealer;
}) {
  const { store, audited, now } = deps;
  return {
    /** The caller changes their own e-mail address. */
    async updateMe(caller: Identity, input: { email: string | null }, ctx: RequestContext) {
      notAMachine(caller);
      return audited(
        ctx,
        {
          action: 'user.update',
          resourceType: 'user',
          resourceId: caller.userId,
          detail: { username: caller.username, email: input.email, self: true },
        },
        async (s) => {
          await s.identity.updateUser(caller.userId, { email: input.email, updated_at: now() });
          return viewOf(s, caller.userId);
        },
      );
    },

    /**
     * The caller changes their own password, proving the current one; every other session of
     * theirs ends. The current password is checked behind the login throttle, counted against the
     * caller's user name and address as a login is (a stolen session cannot guess it faster), and
     * each wrong one is audited (`auth.password_change_failed`).
     * @throws VigilError bad_data `auth.wrong_password` or `auth.weak_password`;
     * too_many_requests `auth.too_many_attempts`.
     */
    async changePassword(
      caller: Identity,
      input: { current_password: string; new_password: string },
      ctx: RequestContext,
    ): Promise<void> {
      notAMachine(caller);
      const right = await deps.identity.throttledCheck(
        { user: caller.username },
        ctx.sourceAddress,
        async () => {
          const u = await store.userById(caller.userId);
          return !!u && (await verifyPassword(u.password_hash, input.current_password));
        },
      );
      if (!right) {
        await audited(
          ctx,
          {
            action: 'auth.password_change_failed',
            resourceType: 'user',
            resourceId: caller.userId,
            detail: { username: caller.username },
          },
          async () => undefined,
        );
        throw new VigilError('bad_data', 'the current password is not correct', {
          code: 'auth.wrong_password',
        });
      }
      checkPassword(input.new_password);
      if (input.new_password === input.current_password)
        throw new VigilError('bad_data', 'the new password must differ from the current one', {
          code: 'auth.weak_password',
        });
      const hash = await hashPassword(input.new_password);
      await audited(
        ctx,
        { action: 'auth.password_change', resourceType: 'user', resourceId: caller.userId },
        async (s, draft) => {
          const at = now();
          await s.identity.updateUser(caller.userId, {
            password_hash: hash,
            must_change_password: 0,
            updated_at: at,
          });
          const sessions = await s.identity.revokeUserSessions(
            caller.userId,
            at,
            'password_changed',
            caller.sessionId,
          );
          draft.entry.detail = { username: caller.username, other_sessions_revoked: sessions };
        },
      );
    },

    /**
     * Starts TOTP enrollment for the caller: a new secret, sealed and kept pending until a code
     * from it is verified. Answers the otpauth:// URI (and the secret, for typing in).
     * @throws VigilError conflict `auth.mfa_enabled` when MFA is already on.
     */
    async mfaEnroll(caller: Identity, ctx: RequestContext) {
      notAMachine(caller);
      const secret = newTotpSecret();
      return audited(ctx, { action: 'auth.mfa_enroll', resourceType: 'user' }, async (s, draft) => {
        const u = await userOf(s, caller.userId);
        if (u.mfa_enabled_at !== null)
          throw new VigilError(
            'conflict',
            'two-factor authentication is already on for this account',
            { code: 'auth.mfa_enabled' },
          );
        await s.identity.updateUser(u.id, {
          mfa_pending_secret: deps.sealer.seal(secret),
          updated_at: now(),
        });
        draft.entry.resourceId = u.id;
        draft.entry.detail = { username: u.username };
        return { provisioning_uri: provisioningUri(secret, u.username), secret: base32(secret) };
      });
    },

    /**
     * Confirms the pending secret with a current code: from then on, logins need a code.
     * @throws VigilError bad_data `auth.mfa_not_enrolling` or `auth.mfa_invalid`.
     */
    async mfaVerify(caller: Identity, otp: string, ctx: RequestContext) {
      notAMachine(caller);
      return audited(ctx, { action: 'auth.mfa_enable', resourceType: 'user' }, async (s, draft) => {
        const u = await userOf(s, caller.userId);
        if (u.mfa_pending_secret === null)
          throw new VigilError('bad_data', 'no enrollment is pending: call mfa:enroll first', {
            code: 'auth.mfa_not_enrolling',
          });
        const at = now();
        const step = matchTotp(deps.sealer.open(u.mfa_pending_secret), otp, at, null);
        if (step === undefined)
          throw new VigilError('bad_data', 'the one-time code is wrong or expired', {
            code: 'auth.mfa_invalid',
          });
        await s.identity.updateUser(u.id, {
          mfa_secret: u.mfa_pending_secret,
          mfa_pending_secret: null,
          mfa_enabled_at: at,
          mfa_last_step: step,
          updated_at: at,
        });
        draft.entry.resourceId = u.id;
        draft.entry.detail = { username: u.username };
        return { mfa_enabled: true };
      });
    },
  };
}
