import { randomUUID } from 'node:crypto';
import { createAudited, type Transact } from '../audit/audited.js';
import type { AuditStore, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { Sealer } from '../secrets/sealer.js';
import { inspectPrivateKey } from './keys.js';

/** How a credential authenticates. */
export type AuthMethod = 'ssh_key' | 'password' | 'both';

/** A credential as stored: every secret sealed. Times are epoch ms. */
export interface CredentialRow {
  id: string;
  name: string;
  description: string | null;
  scope: 'system' | 'host';
  host_id: string | null;
  username: string;
  auth_method: AuthMethod;
  private_key_sealed: string | null;
  passphrase_sealed: string | null;
  password_sealed: string | null;
  key_fingerprint: string | null;
  key_type: string | null;
  key_bits: number | null;
  is_default: number;
  created_at: number;
  updated_at: number;
}

/** Where credentials are kept. Lookups return undefined when absent. */
export interface CredentialStore {
  /** Every credential, newest first; with `hostId`, those of that host only. */
  list(filter: { scope?: 'system' | 'host'; hostId?: string }): Promise<CredentialRow[]>;
  get(id: string): Promise<CredentialRow | undefined>;
  insert(row: CredentialRow): Promise<void>;
  /** Replaces every column but the id and `created_at`. */
  replace(row: CredentialRow): Promise<void>;
  delete(id: string): Promise<boolean>;
  /** Clears `is_default` of every credential of the scope (and host) but `exceptId`. */
  clearDefaults(scope: 'system' | 'host', hostId: string | null, exceptId: string): Promise<void>;
}

/** The stores a credential mutation writes to, within one transaction. */
export interface CredentialStores {
  credentials: CredentialStore;
  audit: AuditStore;
}

/** A credential as the API shows it: never a secret, only what the key is. Times RFC 3339. */
export interface CredentialView {
  id: string;
  name: string;
  description: string | null;
  scope: 'system' | 'host';
  host_id: string | null;
  username: string;
  auth_method: AuthMethod;
  ssh_key_fingerprint: string | null;
  ssh_key_type: string | null;
  ssh_key_bits: number | null;
  has_private_key: boolean;
  has_passphrase: boolean;
  has_password: boolean;
  is_default: boolean;
  created_at: string;
  updated_at: string;
}

/** A credential as created (`POST /api/v1/credentials`). */
export interface CredentialCreate {
  name: string;
  description?: string | null;
  scope: 'system' | 'host';
  host_id?: string | null;
  username: string;
  auth_method: AuthMethod;
  private_key?: string | null;
  private_key_passphrase?: string | null;
  password?: string | null;
  is_default?: boolean;
}

/** A change to a credential: the fields given replace the stored ones; null clears a secret. */
export type CredentialPatch = Partial<Omit<CredentialCreate, 'scope' | 'host_id'>>;

/** Where a clone goes (`POST /api/v1/credentials/{id}:clone`). */
export interface CredentialClone {
  name?: string;
  scope: 'system' | 'host';
  host_id?: string | null;
}

/** The credential a host uses, with its secrets opened: for SSH only, never for an answer. */
export interface ResolvedSecret {
  credential: CredentialView;
  username: string;
  privateKey?: string;
  passphrase?: string;
  password?: string;
}

/** Which credential a host resolves to (`POST /api/v1/hosts/{id}/credentials:resolve`). */
export interface Resolution {
  host_id: string;
  source: 'host' | 'system_default';
  credential: CredentialView;
}

const bad = (field: string, message: string) =>
  new VigilError('bad_data', `${field}: ${message}`, { code: 'validation_failed' });

const iso = (ms: number) => new Date(ms).toISOString();

/** A credential as the API shows it. */
export const viewOf = (r: CredentialRow): CredentialView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  scope: r.scope,
  host_id: r.host_id,
  username: r.username,
  auth_method: r.auth_method,
  ssh_key_fingerprint: r.key_fingerprint,
  ssh_key_type: r.key_type,
  ssh_key_bits: r.key_bits,
  has_private_key: r.private_key_sealed !== null,
  has_passphrase: r.passphrase_sealed !== null,
  has_password: r.password_sealed !== null,
  is_default: r.is_default === 1,
  created_at: iso(r.created_at),
  updated_at: iso(r.updated_at),
});

/**
 * SSH credentials for agentless access. Secrets are sealed with the master key before they are
 * stored and are never answered; a private key is read when it is given (a malformed one, or one
 * its passphrase does not open, is refused), so that its fingerprint can be shown. Every change
 * is audited, with no secret in the event.
 */
export function createCredentialService(deps: {
  store: CredentialStore;
  transact: Transact<CredentialStores>;
  /** Whether a host exists (not deleted). */
  hostExists: (id: string) => Promise<boolean>;
  sealer: Sealer;
  now: () => number;
}) {
  const { store, sealer, now } = deps;
  const audited = createAudited(deps.transact, now);
  const seal = (v: string | null | undefined) =>
    v === null || v === undefined ? null : sealer.seal(Buffer.from(v, 'utf8'));
  const open = (v: string | null) => (v === null ? undefined : sealer.open(v).toString('utf8'));

  const found = async (s: CredentialStore, id: string): Promise<CredentialRow> => {
    const r = await s.get(id);
    if (!r)
      throw new VigilError('not_found', `no credential ${id}`, { code: 'credential.not_found' });
    return r;
  };

  async function checkScope(scope: 'system' | 'host', hostId: string | null | undefined) {
    if (scope === 'system') {
      if (hostId) throw bad('host_id', 'a system credential belongs to no host');
      return null;
    }
    if (!hostId) throw bad('host_id', 'required for a host credential');
    if (!(await deps.hostExists(hostId))) throw bad('host_id', `no host ${hostId}`);
    return hostId;
  }

  /** The row's key columns and method, checked: each method has the secrets it needs. */
  function secretsOf(
    method: AuthMethod,
    privateKey: string | null,
    passphrase: string | null,
    password: string | null,
  ) {
    if (method !== 'password' && !privateKey) throw bad('private_key', `required for ${method}`);
    if (method !== 'ssh_key' && !password) throw bad('password', `required for ${method}`);
    if (passphrase && !privateKey) throw bad('private_key_passphrase', 'given without a key');
    const info = privateKey ? inspectPrivateKey(privateKey, passphrase ?? undefined) : undefined;
    return {
      key_fingerprint: info?.fingerprint ?? null,
      key_type: info?.type ?? null,
      key_bits: info?.bits ?? null,
    };
  }

  /** Newest first; the default of a scope before the others. */
  const rank = (rows: CredentialRow[]) =>
    [...rows].sort((a, b) => b.is_default - a.is_default || b.updated_at - a.updated_at);

  async function resolveRow(
    hostId: string,
  ): Promise<{ row: CredentialRow; source: Resolution['source'] } | undefined> {
    const own = rank(await store.list({ scope: 'host', hostId }))[0];
    if (own) return { row: own, source: 'host' };
    const fallback = (await store.list({ scope: 'system' })).find((r) => r.is_default === 1);
    return fallback && { row: fallback, source: 'system_default' };
  }

  return {
    /** Every credential, newest first, filtered by scope and host. */
    async list(filter: { scope?: 'system' | 'host'; host_id?: string }) {
      const rows = await store.list({ scope: filter.scope, hostId: filter.host_id });
      return { items: rows.map(viewOf), total: rows.length };
    },

    /** One credential. @throws VigilError not_found (`credential.not_found`). */
    async get(id: string): Promise<CredentialView> {
      return viewOf(await found(store, id));
    },

    /** Creates a credential. @throws VigilError bad_data naming the field at fault. */
    async create(ctx: RequestContext, req: CredentialCreate): Promise<CredentialView> {
      const hostId = await checkScope(req.scope, req.host_id);
      const key = secretsOf(
        req.auth_method,
        req.private_key ?? null,
        req.private_key_passphrase ?? null,
        req.password ?? null,
      );
      const at = now();
      const row: CredentialRow = {
        id: randomUUID(),
        name: req.name,
        description: req.description ?? null,
        scope: req.scope,
        host_id: hostId,
        username: req.username,
        auth_method: req.auth_method,
        private_key_sealed: seal(req.private_key),
        passphrase_sealed: seal(req.private_key_passphrase),
        password_sealed: seal(req.password),
        ...key,
        is_default: req.is_default ? 1 : 0,
        created_at: at,
        updated_at: at,
      };
      return audited(
        ctx,
        { action: 'credential.create', resourceType: 'credential', resourceId: row.id },
        async (s, draft) => {
          await s.credentials.insert(row);
          if (row.is_default) await s.credentials.clearDefaults(row.scope, hostId, row.id);
          draft.entry.detail = { name: row.name, scope: row.scope, host_id: hostId };
          return viewOf(row);
        },
      );
    },

    /** Changes a credential. @throws VigilError not_found, bad_data naming the field at fault. */
    async update(ctx: RequestContext, id: string, req: CredentialPatch): Promise<CredentialView> {
      return audited(
        ctx,
        { action: 'credential.update', resourceType: 'credential', resourceId: id },
        async (s, draft) => {
          const old = await found(s.credentials, id);
          const pick = <T>(v: T | undefined, sealed: string | null): string | null =>
            v === undefined ? (open(sealed) ?? null) : ((v as string | null) ?? null);
          const privateKey = pick(req.private_key, old.private_key_sealed);
          const passphrase = pick(req.private_key_passphrase, old.passphrase_sealed);
          const password = pick(req.password, old.password_sealed);
          const method = req.auth_method ?? old.auth_method;
          const key = secretsOf(method, privateKey, passphrase, password);
          const row: CredentialRow = {
            ...old,
            name: req.name ?? old.name,
            description: req.description === undefined ? old.description : req.description,
            username: req.username ?? old.username,
            auth_method: method,
            private_key_sealed: seal(privateKey),
            passphrase_sealed: seal(passphrase),
            password_sealed: seal(password),
            ...key,
            is_default: req.is_default === undefined ? old.is_default : req.is_default ? 1 : 0,
            updated_at: now(),
          };
          await s.credentials.replace(row);
          if (row.is_default) await s.credentials.clearDefaults(row.scope, row.host_id, row.id);
          draft.entry.detail = { fields: Object.keys(req).sort() };
          return viewOf(row);
        },
      );
    },

    /** Deletes a credential. @throws VigilError not_found (`credential.not_found`). */
    async remove(ctx: RequestContext, id: string): Promise<void> {
      await audited(
        ctx,
        { action: 'credential.delete', resourceType: 'credential', resourceId: id },
        async (s, draft) => {
          const old = await found(s.credentials, id);
          await s.credentials.delete(id);
          draft.entry.detail = { name: old.name, scope: old.scope, host_id: old.host_id };
        },
      );
    },

    /**
     * Copies a credential to a new scope or host; its sealed secrets are copied as they are, so
     * they never leave the server. The copy is never a default.
     */
    async clone(ctx: RequestContext, id: string, req: CredentialClone): Promise<CredentialView> {
      const hostId = await checkScope(req.scope, req.host_id);
      return audited(
        ctx,
        { action: 'credential.clone', resourceType: 'credential' },
        async (s, draft) => {
          const old = await found(s.credentials, id);
          const at = now();
          const row: CredentialRow = {
            ...old,
            id: randomUUID(),
            name: req.name ?? old.name,
            scope: req.scope,
            host_id: hostId,
            is_default: 0,
            created_at: at,
            updated_at: at,
          };
          await s.credentials.insert(row);
          draft.entry.resourceId = row.id;
          draft.entry.detail = { from: id, scope: row.scope, host_id: hostId };
          return viewOf(row);
        },
      );
    },

    /**
     * Which credential a host uses: its own (its default, else its newest) before the system
     * default; the answer is audited. @throws VigilError not_found: `host.not_found`, or `credential.unresolved` when
     * the host has none and there is no system default.
     */
    async resolve(ctx: RequestContext, hostId: string): Promise<Resolution> {
      if (!(await deps.hostExists(hostId)))
        throw new VigilError('not_found', `no host ${hostId}`, { code: 'host.not_found' });
      const r = await resolveRow(hostId);
      if (!r)
        throw new VigilError(
          'not_found',
          `host ${hostId} has no credential of its own and there is no system default credential`,
          { code: 'credential.unresolved' },
        );
      // Which credential opens which host is worth a record, though nothing changes.
      await audited(
        ctx,
        { action: 'credential.resolve', resourceType: 'credential', resourceId: r.row.id },
        async (_s, draft) => {
          draft.entry.detail = { host_id: hostId, source: r.source };
        },
      );
      return { host_id: hostId, source: r.source, credential: viewOf(r.row) };
    },

    /** The credential a host uses with its secrets opened, for an SSH connection; undefined with none. */
    async secretFor(hostId: string): Promise<ResolvedSecret | undefined> {
      const r = await resolveRow(hostId);
      if (!r) return undefined;
      const method = r.row.auth_method;
      return {
        credential: viewOf(r.row),
        username: r.row.username,
        privateKey: method === 'password' ? undefined : open(r.row.private_key_sealed),
        passphrase: method === 'password' ? undefined : open(r.row.passphrase_sealed),
        password: method === 'ssh_key' ? undefined : open(r.row.password_sealed),
      };
    },
  };
}

/** The credentials service. */
export type CredentialService = ReturnType<typeof createCredentialService>;
