import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { SettingsStore, SettingsStores } from '../system/settings.js';
import { DEFAULT_THRESHOLDS, type GlobalThresholds, type ThresholdPair } from './model.js';

/** The `settings` key of Tyto's global thresholds. */
export const THRESHOLDS_KEY = 'alert_thresholds';

/** A change of the thresholds: some families, each whole or in part. */
export type ThresholdsChange = Partial<Record<keyof GlobalThresholds, Partial<ThresholdPair>>>;

const FAMILIES = ['cpu', 'memory', 'disk'] as const;

const bad = (message: string) => new VigilError('bad_data', message, { code: 'validation_failed' });

/**
 * Checks thresholds whole: each a number from 0 to 100, warning at most critical.
 * @throws VigilError bad_data naming the bad field.
 */
export function validateThresholds(t: GlobalThresholds): GlobalThresholds {
  const out = {} as GlobalThresholds;
  for (const f of FAMILIES) {
    const pair = t[f];
    for (const level of ['warning', 'critical'] as const) {
      const v = pair[level];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100)
        throw bad(`${f}.${level}: must be a number from 0 to 100`);
    }
    if (pair.warning > pair.critical) throw bad(`${f}.warning: must not be above ${f}.critical`);
    out[f] = { warning: pair.warning, critical: pair.critical };
  }
  return out;
}

/**
 * Tyto's global thresholds (cpu, memory, disk; warning and critical percent), kept in the
 * `settings` table under `alert_thresholds`; the documented defaults until changed. `get` is
 * read often (every alert list, the evaluator), so it is cached for `cacheMs`; `set` drops the
 * cache of this process at once (other processes see the change within `cacheMs`).
 */
export function createThresholdService(deps: {
  store: SettingsStore;
  transact: Transact<SettingsStores>;
  now: () => number;
  cacheMs?: number;
}) {
  const cacheMs = deps.cacheMs ?? 5_000;
  const audited = createAudited(deps.transact, deps.now);
  let cached: { value: GlobalThresholds; at: number } | undefined;
  const listeners = new Set<() => void>();

  async function read(store: SettingsStore): Promise<GlobalThresholds> {
    const text = await store.get(THRESHOLDS_KEY);
    if (text === undefined) return structuredClone(DEFAULT_THRESHOLDS);
    try {
      const stored = JSON.parse(text) as Partial<GlobalThresholds>;
      const merged = structuredClone(DEFAULT_THRESHOLDS);
      for (const f of FAMILIES) merged[f] = { ...merged[f], ...stored[f] };
      return validateThresholds(merged);
    } catch {
      return structuredClone(DEFAULT_THRESHOLDS);
    }
  }

  return {
    /** The thresholds now (a copy). */
    async get(): Promise<GlobalThresholds> {
      const t = deps.now();
      if (!cached || t - cached.at > cacheMs || t < cached.at)
        cached = { value: await read(deps.store), at: t };
      return structuredClone(cached.value);
    },

    /**
     * Changes the thresholds (families and levels not given keep their values), audited as
     * `alert.config`; answers the thresholds after the change.
     * @throws VigilError bad_data for an unknown family or level, or a bad value.
     */
    async set(ctx: RequestContext, change: ThresholdsChange): Promise<GlobalThresholds> {
      if (change === null || typeof change !== 'object' || Array.isArray(change))
        throw bad('body: must be an object of cpu, memory and disk');
      for (const [f, pair] of Object.entries(change)) {
        if (!(FAMILIES as readonly string[]).includes(f))
          throw bad(`${f}: is not one of ${FAMILIES.join(', ')}`);
        if (pair === null || typeof pair !== 'object' || Array.isArray(pair))
          throw bad(`${f}: must be an object of warning and critical`);
        for (const k of Object.keys(pair))
          if (k !== 'warning' && k !== 'critical')
            throw bad(`${f}.${k}: is not warning or critical`);
      }
      const result = await audited(
        ctx,
        { action: 'alert.config', resourceType: 'settings', resourceId: THRESHOLDS_KEY },
        async (s, draft) => {
          const current = await read(s.settings);
          const next = structuredClone(current);
          for (const f of FAMILIES) next[f] = { ...next[f], ...change[f] };
          const valid = validateThresholds(next);
          await s.settings.put(THRESHOLDS_KEY, JSON.stringify(valid));
          draft.entry.detail = { before: current, after: valid };
          return valid;
        },
      );
      cached = { value: result, at: deps.now() };
      for (const listener of listeners) listener();
      return structuredClone(result);
    },

    /** Calls `listener` after each change of the thresholds made in this process. */
    onChange(listener: () => void): void {
      listeners.add(listener);
    },
  };
}

/** The thresholds service. */
export type ThresholdService = ReturnType<typeof createThresholdService>;
