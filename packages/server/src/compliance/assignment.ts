import type { ComplianceDelivery, CompliancePack } from '@vigil/protocol';
import type { ComplianceConfig } from '../system/settings.js';
import { checksumOf, type PackCatalog } from './packs.js';

/** The packs assigned to a host. */
export interface Assignment {
  /** The known packs named, sorted by id. */
  packs: readonly CompliancePack[];
  /** The ids named that no loaded pack has, as given. */
  unknown: readonly string[];
  /** The checksum of `packs`; '' for none. */
  checksum: string;
}

/** How long a host's assignment and the settings are kept before they are read again. */
const TTL_MS = 300_000;
/** Settings are read again at least this often (another process may have changed them). */
const CONFIG_TTL_MS = 30_000;

const NONE: Assignment = { packs: [], unknown: [], checksum: '' };

/**
 * The pack ids a `compliance_packs` var names: an array of strings, or one string taken as one
 * id; anything else names none.
 */
export function packIdsOf(value: unknown): string[] {
  if (typeof value === 'string') return value.trim() === '' ? [] : [value.trim()];
  if (!Array.isArray(value)) return [];
  const ids: string[] = [];
  for (const v of value) if (typeof v === 'string' && v.trim() !== '') ids.push(v.trim());
  return [...new Set(ids)];
}

/**
 * Which packs each host gets (its configuration's resolved var `compliance_packs`, inherited
 * from host templates like every var) and what its agents' push answers carry. A host's
 * assignment is kept in memory (`forHost` runs on every native push) until the configuration
 * changes in this process (`invalidate`) or `TTL_MS` passes; the settings likewise, for
 * `CONFIG_TTL_MS` or until `configChanged`.
 */
export function createComplianceAssignment(deps: {
  catalog: PackCatalog;
  /** The host's resolved `compliance_packs` var; undefined without one (or without a host). */
  packVar(hostId: string): Promise<unknown>;
  /** Compliance evaluation's settings. */
  config(): Promise<ComplianceConfig>;
  now: () => number;
}) {
  const { catalog, now } = deps;
  const cache = new Map<string, { at: number; value: Promise<Assignment> }>();
  let config: { at: number; value: Promise<ComplianceConfig> } | undefined;

  const load = async (hostId: string): Promise<Assignment> => {
    const ids = packIdsOf(await deps.packVar(hostId));
    if (ids.length === 0) return NONE;
    const packs: CompliancePack[] = [];
    const unknown: string[] = [];
    for (const id of ids) {
      const pack = catalog.get(id);
      if (pack) packs.push(pack);
      else unknown.push(id);
    }
    packs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { packs, unknown, checksum: checksumOf(packs) };
  };

  const forHost = (hostId: string): Promise<Assignment> => {
    const c = cache.get(hostId);
    if (c && now() - c.at < TTL_MS) return c.value;
    const value = load(hostId);
    // A failed read is not kept: the next push asks again.
    value.catch(() => cache.delete(hostId));
    if (cache.size > 50_000) cache.clear();
    cache.set(hostId, { at: now(), value });
    return value;
  };

  const settings = (): Promise<ComplianceConfig> => {
    if (config && now() - config.at < CONFIG_TTL_MS) return config.value;
    const value = deps.config();
    value.catch(() => (config = undefined));
    config = { at: now(), value };
    return value;
  };

  return {
    /** The packs assigned to a host, from memory when read lately. */
    forHost,

    /** Compliance evaluation's settings, from memory when read lately. */
    settings,

    /**
     * What a native push answer carries for the host's agent: the checksum, the interval, and the
     * packs themselves only when `held` (the push's `compliance_checksum`) differs from the
     * checksum and there are packs to give.
     */
    async delivery(hostId: string, held: string | undefined): Promise<ComplianceDelivery> {
      const [a, cfg] = await Promise.all([forHost(hostId), settings()]);
      return {
        checksum: a.checksum,
        interval_seconds: cfg.interval_seconds,
        ...(a.checksum !== '' && held !== a.checksum ? { packs: [...a.packs] } : {}),
      };
    },

    /** Drops every host's assignment: the configuration changed. */
    invalidate(): void {
      cache.clear();
    },

    /** Drops the settings kept: they changed. */
    configChanged(): void {
      config = undefined;
    },
  };
}

/** The assignment of packs to hosts. */
export type ComplianceAssignment = ReturnType<typeof createComplianceAssignment>;
