import type { Health, TytoHealth } from '@vigil/protocol';

/** What health needs to know about the store. */
export interface Pingable {
  ping(timeoutMs?: number): Promise<boolean>;
}

/**
 * Health of the server. The database probe is cached for `probeEveryMs` so that a monitoring
 * system polling health cannot turn it into database load.
 */
export const createHealthService = (deps: {
  db: Pingable;
  version: string;
  startedAt: number;
  now: () => number;
  probeEveryMs?: number;
}) => {
  let last: { at: number; ok: boolean } | undefined;
  let inflight: Promise<boolean> | undefined;
  const every = deps.probeEveryMs ?? 1000;

  const dbConnected = async (): Promise<boolean> => {
    const t = deps.now();
    if (last && t - last.at < every) return last.ok;
    inflight ??= deps.db.ping(2000).then((ok) => {
      last = { at: deps.now(), ok };
      inflight = undefined;
      return ok;
    });
    return inflight;
  };

  return {
    /** The OpenWatch health document and whether the server can serve. */
    async health(): Promise<{ body: Health; serving: boolean }> {
      const ok = await dbConnected();
      return {
        body: { status: ok ? 'healthy' : 'degraded', db_connected: ok, version: deps.version },
        serving: ok,
      };
    },
    /** The Tyto health document. */
    async tytoHealth(): Promise<{ body: TytoHealth; serving: boolean }> {
      const ok = await dbConnected();
      return {
        body: {
          status: ok ? 'ok' : 'error',
          version: deps.version,
          uptime: Math.floor((deps.now() - deps.startedAt) / 1000),
        },
        serving: ok,
      };
    },
  };
};

/** The health service's type. */
export type HealthService = ReturnType<typeof createHealthService>;
