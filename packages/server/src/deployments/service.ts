import { randomUUID } from 'node:crypto';
import type { DeployedCheck } from '@vigil/protocol';
import type { Audited } from '../audit/audited.js';
import type { CursorCodec, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { ConfigObject, ObjectKind, ObjectType } from '../objects/model.js';
import { canonical } from '../objects/properties.js';
import { checksForHost } from './checks.js';
import { renderIcinga2 } from './render-icinga2.js';
import {
  checksumOf,
  countsOf,
  diffSnapshots,
  sortSnapshot,
  validateSnapshot,
  type Snapshot,
  type SnapshotCounts,
  type SnapshotDiff,
} from './snapshot.js';
import type {
  DeploymentRow,
  DeploymentStore,
  DeploymentStores,
  DeploymentSummaryRow,
} from './stored.js';

/** What a deploy reads the configuration from: the configuration objects service. */
export interface ConfigSource {
  /** Objects of a kind and type (commands: every type); hosts and services are not deleted. */
  list(kind: ObjectKind, opts?: { type?: ObjectType }): Promise<ConfigObject[]>;
  /** The host with this id; undefined when absent or deleted. */
  hostById(id: string): Promise<ConfigObject | undefined>;
}

/** A deployment as the API shows it. */
export interface DeploymentSummary {
  id: string;
  checksum: string;
  created_at: string;
  created_by: string | null;
  objects: number;
  /** Whether it is the active deployment (the one agents and renderings use). */
  active: boolean;
  activated_at: string | null;
}

/** A deployment with how many objects of each kind it holds. */
export interface DeploymentDetail extends DeploymentSummary {
  counts: SnapshotCounts;
}

/** The diff between two configurations, named by their checksums (`from` null: nothing). */
export interface DeploymentDiff extends SnapshotDiff {
  from: string | null;
  to: string;
}

/** Director's `deployment-status` answer. */
export interface DeploymentStatus {
  active_configuration:
    { stage_name: string; config: string; activity: string } | Record<string, never>;
  configs?: Record<string, string>;
  activities?: Record<string, string>;
}

/** How long the active deployment is taken from memory before it is read again, in ms. */
const ACTIVE_TTL_MS = 5_000;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * Deployments: immutable, checksummed snapshots of the whole enabled configuration. A deploy
 * snapshots and validates the configuration; the snapshot, stored once per checksum, becomes the
 * active deployment, which agents run (`checksFor`) and which renders as Icinga 2 configuration.
 */
export function createDeploymentService(deps: {
  source: ConfigSource;
  store: DeploymentStore;
  audited: Audited<DeploymentStores>;
  cursors: CursorCodec;
  now: () => number;
}) {
  const { source, store, audited, cursors, now } = deps;
  let active: { at: number; row: { id: string; snapshot: Snapshot } | null } | undefined;
  const checksCache = new Map<string, { checksum: string; checks: DeployedCheck[] } | undefined>();

  /** The current enabled configuration, sorted. */
  async function current(): Promise<Snapshot> {
    const enabled = (list: ConfigObject[]) => list.filter((o) => !o.disabled);
    const [commands, groups, groupTemplates, hostTemplates, hosts, serviceTemplates, services] =
      await Promise.all([
        source.list('command'),
        source.list('hostgroup', { type: 'object' }),
        source.list('hostgroup', { type: 'template' }),
        source.list('host', { type: 'template' }),
        source.list('host', { type: 'object' }),
        source.list('service', { type: 'template' }),
        source.list('service', { type: 'object' }),
      ]);
    const snapshot: Snapshot = {
      commands: enabled(commands),
      hostgroups: enabled([...groups, ...groupTemplates]),
      host_templates: enabled(hostTemplates),
      hosts: enabled(hosts),
      service_templates: enabled(serviceTemplates),
      services: [],
    };
    // A service of a disabled host or host template is as invisible as its host.
    const owners = new Set(
      [...snapshot.hosts, ...snapshot.host_templates].map((o) => o.object_name),
    );
    snapshot.services = enabled(services).filter((s) => s.host !== null && owners.has(s.host));
    return sortSnapshot(snapshot);
  }

  const snapshotOf = (row: DeploymentRow): Snapshot => JSON.parse(row.snapshot) as Snapshot;

  function summary(row: DeploymentSummaryRow, activeId: string | undefined): DeploymentSummary {
    return {
      id: row.id,
      checksum: row.checksum,
      created_at: iso(row.created_at)!,
      created_by: row.created_by,
      objects: Number(row.objects),
      active: row.id === activeId,
      activated_at: iso(row.activated_at),
    };
  }

  /** A deployment by id; `active` names the active one. */
  async function require(id: string): Promise<DeploymentRow> {
    const row = id === 'active' ? await store.active() : await store.byId(id);
    if (!row)
      throw new VigilError(
        'not_found',
        id === 'active' ? 'there is no active deployment yet' : `no deployment ${id}`,
        { code: 'deployment.not_found' },
      );
    return row;
  }

  async function activeRow(): Promise<{ id: string; snapshot: Snapshot } | null> {
    if (active && now() - active.at < ACTIVE_TTL_MS) return active.row;
    const row = await store.active();
    const cached = active?.row;
    const next = row
      ? cached?.id === row.id
        ? cached
        : { id: row.id, snapshot: snapshotOf(row) }
      : null;
    if (next?.id !== cached?.id) checksCache.clear();
    active = { at: now(), row: next };
    return next;
  }

  return {
    /**
     * Deploys the current configuration: validates it, stores it as a new deployment unless one
     * with the same checksum exists, and makes that deployment the active one. Audited as
     * `config.deploy`.
     * @throws VigilError bad_data `deployment.invalid` listing every problem found.
     */
    async deploy(ctx: RequestContext): Promise<DeploymentDetail & { created: boolean }> {
      const snapshot = await current();
      const problems = validateSnapshot(snapshot);
      if (problems.length > 0)
        throw new VigilError('bad_data', `The configuration is not valid: ${problems.join('; ')}`, {
          code: 'deployment.invalid',
        });
      const checksum = checksumOf(snapshot);
      const counts = countsOf(snapshot);
      const run = () =>
        audited(ctx, { action: 'config.deploy', resourceType: 'deployment' }, async (s, draft) => {
          const at = now();
          let row = await s.deployments.byChecksum(checksum);
          const created = !row;
          if (!row) {
            row = {
              id: randomUUID(),
              checksum,
              created_at: at,
              created_by: ctx.actor.label,
              snapshot: canonical(snapshot),
              objects: Object.values(counts).reduce((a, b) => a + b, 0),
              activated_at: at,
            };
            await s.deployments.insert(row);
          } else await s.deployments.activate(row.id, at);
          draft.entry.resourceId = row.id;
          draft.entry.detail = { checksum, created };
          return { ...summary({ ...row, activated_at: at }, row.id), counts, created };
        });
      let result: Awaited<ReturnType<typeof run>>;
      try {
        result = await run();
      } catch (err) {
        // A concurrent deploy of the same configuration stored it first (the checksum is
        // unique): this deploy activates that row instead.
        if (!(await store.byChecksum(checksum))) throw err;
        result = await run();
      }
      active = undefined;
      checksCache.clear();
      return result;
    },

    /**
     * Makes the stored deployment with this checksum the active one again (Director's
     * `config/deploy?checksum=`). Audited as `config.deploy`.
     * @throws VigilError not_found for a checksum no deployment has.
     */
    async activate(ctx: RequestContext, checksum: string): Promise<DeploymentDetail> {
      const result = await audited(
        ctx,
        { action: 'config.deploy', resourceType: 'deployment' },
        async (s, draft) => {
          const row = /^[0-9a-f]{40}$/.test(checksum)
            ? await s.deployments.byChecksum(checksum)
            : undefined;
          if (!row)
            throw new VigilError('not_found', `no deployment has the checksum ${checksum}`, {
              code: 'deployment.not_found',
            });
          const at = now();
          await s.deployments.activate(row.id, at);
          draft.entry.resourceId = row.id;
          draft.entry.detail = { checksum, created: false };
          return {
            ...summary({ ...row, activated_at: at }, row.id),
            counts: countsOf(snapshotOf(row)),
          };
        },
      );
      active = undefined;
      checksCache.clear();
      return result;
    },

    /** Deployments, newest first; follow `next_cursor` for older ones. */
    async list(q: { limit?: number; cursor?: string }): Promise<{
      items: DeploymentSummary[];
      next_cursor: string | null;
    }> {
      const limit = q.limit ?? 50;
      let before: { createdAt: number; id: string } | undefined;
      if (q.cursor !== undefined) {
        const d = cursors.decode(q.cursor);
        if (!Array.isArray(d) || typeof d[0] !== 'number' || typeof d[1] !== 'string')
          throw new VigilError('bad_data', 'the cursor is not valid for this query', {
            code: 'pagination.cursor_invalid',
          });
        before = { createdAt: d[0], id: d[1] };
      }
      const [rows, act] = await Promise.all([
        store.list({ before, limit: limit + 1 }),
        store.active(),
      ]);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => summary(r, act?.id)),
        next_cursor:
          rows.length > limit && last ? cursors.encode([Number(last.created_at), last.id]) : null,
      };
    },

    /**
     * One deployment with its counts (`active`: the active one).
     * @throws VigilError not_found `deployment.not_found`.
     */
    async get(id: string): Promise<DeploymentDetail> {
      const [row, act] = await Promise.all([require(id), store.active()]);
      return { ...summary(row, act?.id), counts: countsOf(snapshotOf(row)) };
    },

    /**
     * What changed from deployment `against` (an id, or `active`) to deployment `id`.
     * @throws VigilError not_found for an unknown deployment, or `active` before the first deploy.
     */
    async diff(id: string, against: string): Promise<DeploymentDiff> {
      const to = await require(id);
      const from = await require(against);
      return {
        from: from.checksum,
        to: to.checksum,
        ...diffSnapshots(snapshotOf(from), snapshotOf(to)),
      };
    },

    /**
     * What a deploy now would change: the current configuration against the active deployment
     * (`from` null and everything added before the first deploy). `to` is the checksum a deploy
     * would give.
     */
    async pendingDiff(): Promise<DeploymentDiff> {
      const [snapshot, from] = await Promise.all([current(), store.active()]);
      return {
        from: from?.checksum ?? null,
        to: checksumOf(snapshot),
        ...diffSnapshots(from ? snapshotOf(from) : null, snapshot),
      };
    },

    /**
     * A deployment (`active`: the active one) rendered as Icinga 2 configuration.
     * @throws VigilError not_found `deployment.not_found`.
     */
    async icinga2(id: string): Promise<string> {
      const row = await require(id);
      return renderIcinga2(
        snapshotOf(row),
        `Vigil deployment ${row.checksum}, ${new Date(Number(row.created_at)).toISOString()}`,
      );
    },

    /**
     * The active configuration as Director's `deployment-status` tells it (an empty object
     * before the first deploy), with the status of each checksum asked about in `configs` and
     * `activities`: `active`, `deployed` (once active), or `unknown`.
     */
    async status(configs?: string[], activities?: string[]): Promise<DeploymentStatus> {
      const act = await store.active();
      const out: DeploymentStatus = {
        active_configuration: act
          ? { stage_name: act.id, config: act.checksum, activity: act.checksum }
          : {},
      };
      const asked = [...(configs ?? []), ...(activities ?? [])].filter((c) =>
        /^[0-9a-f]{40}$/.test(c),
      );
      const known = new Map(
        (await store.byChecksums([...new Set(asked)])).map((r) => [r.checksum, r]),
      );
      const statusOf = (c: string): string =>
        c === act?.checksum
          ? 'active'
          : (known.get(c)?.activated_at ?? null) !== null
            ? 'deployed'
            : 'unknown';
      if (configs) out.configs = Object.fromEntries(configs.map((c) => [c, statusOf(c)]));
      if (activities) out.activities = Object.fromEntries(activities.map((c) => [c, statusOf(c)]));
      return out;
    },

    /**
     * The checks the active deployment gives the host with id `hostId`, with their checksum;
     * null when there is no active deployment, or the host is not in it (no checks then, with
     * an empty list's checksum). Answers from memory, after one indexed read of the host; a new
     * deployment is seen within a few seconds.
     */
    async checksFor(hostId: string): Promise<{ checksum: string; checks: DeployedCheck[] } | null> {
      const deployment = await activeRow();
      if (!deployment) return null;
      const host = await source.hostById(hostId);
      if (!host) return null;
      if (!checksCache.has(host.object_name))
        checksCache.set(host.object_name, checksForHost(deployment.snapshot, host.object_name));
      return checksCache.get(host.object_name) ?? null;
    },
  };
}

/** The deployments service. */
export type DeploymentService = ReturnType<typeof createDeploymentService>;
