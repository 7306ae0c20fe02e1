import { createAudited, type Transact } from '../audit/audited.js';
import type { Sealer } from '../secrets/sealer.js';
import { createAccount } from './account.js';
import type { IdentityStore, IdentityStores } from './model.js';
import { createRoles } from './roles.js';
import type { IdentityService } from './service.js';
import { createUsers } from './users.js';

/**
 * User and role administration, and what users do to their own account. Every change is
 * audited in the transaction that makes it; a change that would leave no enabled user holding
 * the `admin` role is refused (409 `user.last_admin`). Each administrative change takes the
 * caller's grants (`callerGrants`): a caller may grant only what it holds, and may change only a
 * user or role that holds no more than it (403 `role.escalation`, see `checkMayGrant`).
 * Users (`users.ts`), roles (`roles.ts`) and the caller's own account (`account.ts`) are built in
 * their own modules and joined here.
 */
export function createUserAdmin(deps: {
  store: IdentityStore;
  transact: Transact<IdentityStores>;
  identity: IdentityService;
  now: () => number;
  sealer: Sealer;
  allowRegistration: boolean;
}) {
  const { store, transact, now } = deps;
  const audited = createAudited(transact, now);
  return {
    ...createUsers({
      store,
      transact,
      audited,
      identity: deps.identity,
      now,
      allowRegistration: deps.allowRegistration,
    }),
    ...createRoles({ store, audited, now }),
    ...createAccount({ store, audited, identity: deps.identity, now, sealer: deps.sealer }),
  };
}

/** The user administration service's type. */
export type UserAdmin = ReturnType<typeof createUserAdmin>;
