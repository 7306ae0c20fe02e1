import { createAudited, type Transact } from '../audit/audited.js';
import type { AuditStore, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';

/** Where server settings are kept: JSON text by key. */
export interface SettingsStore {
  /** Returns undefined when the key was never set. */
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
}

/** The stores a settings change writes to, within one transaction. */
export interface SettingsStores {
  settings: SettingsStore;
  audit: AuditStore;
}

/** The connectivity worker's settings (`/api/v1/system/connectivity/config`). */
export interface ConnectivityConfig {
  enabled: boolean;
  /** Seconds between the starts of two sweeps. */
  interval_seconds: number;
  /** Seconds one probe (TCP, then SSH) may take. */
  timeout_seconds: number;
  /** Hosts probed at once. */
  concurrency: number;
}

/** The fact groups that can be collected. */
export const FACT_GROUPS = ['os', 'hardware', 'storage', 'network'] as const;
/** One fact group. */
export type FactGroup = (typeof FACT_GROUPS)[number];

/** The kinds of change host intelligence can record, each with its switch. */
export const CHANGE_KINDS = ['packages', 'kernel', 'reboot', 'ports', 'users', 'units'] as const;
/** One kind of change (`package.*`, `kernel.changed`, `host.rebooted`, `port.*`, `user.*`, `unit.*`). */
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** What system facts are collected, and how often (`/api/v1/system/intelligence/config`). */
export interface IntelligenceConfig {
  /** Seconds between two collections of a host's facts. */
  interval_seconds: number;
  /** Per group, whether its facts are collected. */
  facts: Record<FactGroup, boolean>;
  /** Per kind, whether the changes host intelligence sees on ingest are recorded as events. */
  changes: Record<ChangeKind, boolean>;
}

/** Agentless discovery's settings (`/api/v1/system/discovery/config`). */
export interface DiscoveryConfig {
  enabled: boolean;
  /** Seconds between two discovery sweeps. */
  interval_seconds: number;
  /** Hosts discovered at once. */
  concurrency: number;
}

/** The least severity of a failing compliance rule that raises an alert, or `none`. */
export const COMPLIANCE_ALERT_LEVELS = ['low', 'medium', 'high', 'critical', 'none'] as const;

/** Compliance evaluation's settings (`/api/v1/system/compliance/config`). */
export interface ComplianceConfig {
  /** Seconds between two evaluations of a host's packs by its agent. */
  interval_seconds: number;
  /** A failing rule of this severity or worse raises an alert; `none`: no rule does. */
  alert_min_severity: (typeof COMPLIANCE_ALERT_LEVELS)[number];
}

/** Every configurable section, with its key in the settings table and its defaults. */
const SECTIONS = {
  connectivity: {
    key: 'system.connectivity',
    defaults: {
      enabled: true,
      interval_seconds: 300,
      timeout_seconds: 10,
      concurrency: 10,
    } as ConnectivityConfig,
  },
  intelligence: {
    key: 'system.intelligence',
    defaults: {
      interval_seconds: 86_400,
      facts: { os: true, hardware: true, storage: true, network: true },
      changes: {
        packages: true,
        kernel: true,
        reboot: true,
        ports: true,
        users: true,
        units: true,
      },
    } as IntelligenceConfig,
  },
  discovery: {
    key: 'system.discovery',
    defaults: { enabled: false, interval_seconds: 86_400, concurrency: 5 } as DiscoveryConfig,
  },
  compliance: {
    key: 'system.compliance',
    defaults: { interval_seconds: 3600, alert_min_severity: 'high' } as ComplianceConfig,
  },
};

/** A configurable section. */
export type Section = keyof typeof SECTIONS;
type ConfigOf<S extends Section> = (typeof SECTIONS)[S]['defaults'];
/** A change to a section: some of its fields (some of the fact groups, for `facts`). */
export type ConfigChange<S extends Section> = Partial<Omit<ConfigOf<S>, 'facts' | 'changes'>> & {
  facts?: Partial<Record<FactGroup, boolean>>;
  changes?: Partial<Record<ChangeKind, boolean>>;
};

const bad = (field: string, message: string) =>
  new VigilError('bad_data', `${field}: ${message}`, { code: 'validation_failed' });

function intIn(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw bad(field, `must be an integer from ${min} to ${max}`);
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw bad(field, 'must be true or false');
  return v;
}

/** Checks a whole section; each bad value is refused naming its field. */
const VALIDATE: { [S in Section]: (c: ConfigOf<S>) => ConfigOf<S> } = {
  connectivity: (c) => {
    const out: ConnectivityConfig = {
      enabled: bool('enabled', c.enabled),
      interval_seconds: intIn('interval_seconds', c.interval_seconds, 10, 86_400),
      timeout_seconds: intIn('timeout_seconds', c.timeout_seconds, 1, 120),
      concurrency: intIn('concurrency', c.concurrency, 1, 256),
    };
    if (out.timeout_seconds >= out.interval_seconds)
      throw bad('timeout_seconds', 'must be shorter than interval_seconds');
    return out;
  },
  intelligence: (c) => ({
    interval_seconds: intIn('interval_seconds', c.interval_seconds, 60, 30 * 86_400),
    facts: Object.fromEntries(
      FACT_GROUPS.map((g) => [g, bool(`facts.${g}`, c.facts[g])]),
    ) as Record<FactGroup, boolean>,
    changes: Object.fromEntries(
      CHANGE_KINDS.map((k) => [k, bool(`changes.${k}`, c.changes[k])]),
    ) as Record<ChangeKind, boolean>,
  }),
  discovery: (c) => ({
    enabled: bool('enabled', c.enabled),
    interval_seconds: intIn('interval_seconds', c.interval_seconds, 300, 30 * 86_400),
    concurrency: intIn('concurrency', c.concurrency, 1, 64),
  }),
  compliance: (c) => {
    if (!(COMPLIANCE_ALERT_LEVELS as readonly unknown[]).includes(c.alert_min_severity))
      throw bad('alert_min_severity', `must be one of ${COMPLIANCE_ALERT_LEVELS.join(', ')}`);
    return {
      interval_seconds: intIn('interval_seconds', c.interval_seconds, 300, 86_400),
      alert_min_severity: c.alert_min_severity,
    };
  },
};

/**
 * Server settings kept as data in the `settings` table: the connectivity worker's, fact
 * collection's, discovery's and compliance evaluation's. A section never set reads as its defaults; a change gives some
 * fields (the others keep their values) and is checked whole before it is stored and audited.
 */
export function createSettingsService(deps: {
  store: SettingsStore;
  transact: Transact<SettingsStores>;
  now: () => number;
}) {
  const audited = createAudited(deps.transact, deps.now);

  async function read<S extends Section>(store: SettingsStore, section: S): Promise<ConfigOf<S>> {
    const { key, defaults } = SECTIONS[section];
    const text = await store.get(key);
    if (text === undefined) return structuredClone(defaults);
    try {
      const stored = JSON.parse(text) as Partial<ConfigOf<S>>;
      return { ...structuredClone(defaults), ...stored };
    } catch {
      return structuredClone(defaults);
    }
  }

  return {
    /** A section's settings (its defaults until changed). */
    get: <S extends Section>(section: S): Promise<ConfigOf<S>> => read(deps.store, section),

    /**
     * Changes some of a section's settings and returns the whole section.
     * @throws VigilError bad_data naming the first field at fault.
     */
    async update<S extends Section>(
      ctx: RequestContext,
      section: S,
      change: ConfigChange<S>,
    ): Promise<ConfigOf<S>> {
      return audited(
        ctx,
        { action: `system.${section}_config`, resourceType: 'settings', resourceId: section },
        async (s, draft) => {
          const old = await read(s.settings, section);
          const merged = { ...old, ...change } as ConfigOf<S>;
          if (section === 'intelligence') {
            const facts = change.facts;
            (merged as IntelligenceConfig).facts = {
              ...(old as IntelligenceConfig).facts,
              ...facts,
            };
            (merged as IntelligenceConfig).changes = {
              ...(old as IntelligenceConfig).changes,
              ...change.changes,
            };
          }
          const next = VALIDATE[section](merged);
          await s.settings.put(SECTIONS[section].key, JSON.stringify(next));
          draft.entry.detail = { changed: change as Record<string, unknown> };
          return next;
        },
      );
    },
  };
}

/** The settings service. */
export type SettingsService = ReturnType<typeof createSettingsService>;
