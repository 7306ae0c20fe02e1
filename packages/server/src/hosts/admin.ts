import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { createAudited, type Transact } from '../audit/audited.js';
import { systemContext, type AuditStore, type RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import {
  MAINTENANCE_OPEN_ENDED,
  type HostFields,
  type HostRow,
  type HostStore,
} from './service.js';

/** The stores a host mutation writes to, within one transaction. */
export interface HostStores {
  hosts: HostStore;
  audit: AuditStore;
}

/** A host as an operator creates it (`POST /api/v1/hosts`). */
export interface HostCreate {
  hostname: string;
  ip_address: string;
  port?: number;
  display_name?: string;
  description?: string;
  environment?: string;
  tags?: string[];
  group_id?: string;
  username?: string;
}

/** A change to a host (`PATCH /api/v1/hosts/{id}`): a field given null is cleared. */
export interface HostPatch {
  ip_address?: string;
  port?: number | null;
  display_name?: string | null;
  description?: string | null;
  environment?: string | null;
  tags?: string[];
  group_id?: string | null;
  username?: string | null;
}

/** Maintenance of a host (`POST /api/v1/hosts/{id}/maintenance`); `until` is RFC 3339. */
export interface MaintenanceChange {
  enabled: boolean;
  until?: string | null;
  reason?: string | null;
}

/** A DNS name (RFC 1123 labels; underscores tolerated, as agents report such names). */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

const bad = (field: string, message: string): VigilError =>
  new VigilError('bad_data', `${field}: ${message}`, { code: 'validation_failed' });

function checkAddress(v: string): string {
  if (isIP(v) === 0 && !HOSTNAME.test(v)) throw bad('ip_address', 'not an IP address or DNS name');
  return v;
}

function checkTags(tags: string[]): string[] {
  const out = [...new Set(tags.map((t) => t.trim()))];
  if (out.some((t) => t.length === 0)) throw bad('tags', 'a tag cannot be empty');
  return out;
}

/** Whether a host is in maintenance at `at`. */
export const inMaintenance = (h: HostRow, at: number): boolean =>
  h.maintenance_until !== null && h.maintenance_until > at;

/**
 * What operators change on hosts: create (or bring back a deleted one of the same name), change,
 * delete (soft), maintenance. Every change is audited. Also brings back a deleted host whose
 * agent reports again (`onReport`, an ingest subscriber).
 */
export function createHostAdmin(deps: {
  store: HostStore;
  transact: Transact<HostStores>;
  now: () => number;
  log?: (err: unknown) => void;
}) {
  const { store, now } = deps;
  const audited = createAudited(deps.transact, now);
  /** Deleted hosts' ids, loaded on first use and kept current by this service. */
  let deleted: Promise<Set<string>> | undefined;
  /** The same set once loaded, for the ingest path to test without a promise. */
  let loaded: Set<string> | undefined;
  const deletedIds = () => (deleted ??= store.deletedIds().then((ids) => (loaded = new Set(ids))));

  const found = async (s: HostStores, id: string): Promise<HostRow> => {
    const h = await s.hosts.get(id);
    if (!h) throw new VigilError('not_found', `no host ${id}`, { code: 'host.not_found' });
    return h;
  };

  return {
    /**
     * Creates a host; a deleted host of the same name is brought back with this configuration.
     * @throws VigilError conflict (`host.duplicate`) when a host of that name exists.
     */
    async create(ctx: RequestContext, req: HostCreate): Promise<string> {
      if (!HOSTNAME.test(req.hostname)) throw bad('hostname', 'not a valid host name');
      const fields: HostFields = {
        address: checkAddress(req.ip_address),
        port: req.port ?? null,
        display_name: req.display_name ?? null,
        description: req.description ?? null,
        environment: req.environment ?? null,
        tags: checkTags(req.tags ?? []),
        group_id: req.group_id ?? null,
        username: req.username ?? null,
      };
      const id = await audited(
        ctx,
        { action: 'host.create', resourceType: 'host' },
        async (s, draft) => {
          const at = now();
          const existing = await s.hosts.byNameAny(req.hostname);
          let hostId: string;
          if (existing && existing.deleted_at === null) {
            throw new VigilError('conflict', `a host named ${req.hostname} exists`, {
              code: 'host.duplicate',
            });
          } else if (existing) {
            await s.hosts.revive(existing.id, fields, at);
            hostId = existing.id;
            draft.entry.detail = { hostname: req.hostname, revived: true };
          } else {
            hostId = randomUUID();
            const ok = await s.hosts.insert({
              id: hostId,
              name: req.hostname,
              created_at: at,
              updated_at: at,
              deleted_at: null,
              ...(fields as Required<HostFields>),
              maintenance_until: null,
              maintenance_reason: null,
            });
            if (!ok)
              throw new VigilError('conflict', `a host named ${req.hostname} exists`, {
                code: 'host.duplicate',
              });
            draft.entry.detail = { hostname: req.hostname };
          }
          draft.entry.resourceId = hostId;
          return hostId;
        },
      );
      (await deletedIds()).delete(id);
      return id;
    },

    /** Changes a host. @throws VigilError not_found (`host.not_found`). */
    async update(ctx: RequestContext, id: string, req: HostPatch): Promise<void> {
      const fields: HostFields = {};
      if (req.ip_address !== undefined) fields.address = checkAddress(req.ip_address);
      if (req.port !== undefined) fields.port = req.port;
      if (req.display_name !== undefined) fields.display_name = req.display_name;
      if (req.description !== undefined) fields.description = req.description;
      if (req.environment !== undefined) fields.environment = req.environment;
      if (req.tags !== undefined) fields.tags = checkTags(req.tags);
      if (req.group_id !== undefined) fields.group_id = req.group_id;
      if (req.username !== undefined) fields.username = req.username;
      await audited(
        ctx,
        { action: 'host.update', resourceType: 'host', resourceId: id },
        async (s, draft) => {
          await found(s, id);
          await s.hosts.update(id, fields, now());
          draft.entry.detail = { fields: Object.keys(req).sort() };
        },
      );
    },

    /** Deletes a host (soft). @throws VigilError not_found (`host.not_found`). */
    async remove(ctx: RequestContext, id: string): Promise<number> {
      const at = now();
      await audited(
        ctx,
        { action: 'host.delete', resourceType: 'host', resourceId: id },
        async (s, draft) => {
          const h = await found(s, id);
          await s.hosts.softDelete(id, at);
          draft.entry.detail = { hostname: h.name };
        },
      );
      (await deletedIds()).add(id);
      return at;
    },

    /**
     * Turns maintenance on (until `until`, or until turned off) or off.
     * @throws VigilError bad_data when `until` is not in the future; not_found.
     */
    async maintenance(ctx: RequestContext, id: string, req: MaintenanceChange): Promise<void> {
      const at = now();
      let until: number | null = null;
      if (req.enabled) {
        if (req.until === undefined || req.until === null) until = MAINTENANCE_OPEN_ENDED;
        else {
          until = Date.parse(req.until);
          if (!Number.isFinite(until)) throw bad('until', 'not an RFC 3339 time');
          if (until <= at) throw bad('until', 'must be in the future');
        }
      }
      await audited(
        ctx,
        { action: 'host.maintenance', resourceType: 'host', resourceId: id },
        async (s, draft) => {
          await found(s, id);
          await s.hosts.update(
            id,
            {
              maintenance_until: until,
              maintenance_reason: req.enabled ? (req.reason ?? null) : null,
            },
            at,
          );
          draft.entry.detail = {
            enabled: req.enabled,
            until: until === null || until === MAINTENANCE_OPEN_ENDED ? null : req.until,
            reason: req.reason ?? null,
          };
        },
      );
    },

    /**
     * Brings a deleted host back when one of its agents reports for it (an ingest subscriber;
     * constant time for a host that is not deleted).
     */
    onReport(e: { hostId: string }): void {
      // Every push passes here: a host that is not deleted costs one set lookup.
      if (loaded && !loaded.has(e.hostId)) return;
      void deletedIds()
        .then(async (ids) => {
          if (!ids.has(e.hostId)) return;
          ids.delete(e.hostId);
          await audited(
            systemContext('ingest'),
            { action: 'host.revive', resourceType: 'host', resourceId: e.hostId },
            async (s, draft) => {
              // Another path (an enrollment) may have brought it back since.
              if (await s.hosts.get(e.hostId)) return draft.skip();
              await s.hosts.revive(e.hostId, {}, now());
              draft.entry.detail = { reason: 'an agent reported for the deleted host' };
            },
          );
        })
        .catch((err: unknown) => deps.log?.(err));
    },
  };
}

/** The host administration service. */
export type HostAdmin = ReturnType<typeof createHostAdmin>;
