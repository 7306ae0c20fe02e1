import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { DiscoveryConfig, IntelligenceConfig } from '../system/settings.js';
import type { HostStores } from './admin.js';
import { pool, type SecretSource } from './connectivity.js';
import {
  DISCOVERY_COMMANDS,
  discoveredFacts,
  type DiscoveredFacts,
  type DiscoveryCommand,
} from './discovery.js';
import type { HostRow, HostStore } from './service.js';
import { sshConnect, SshError } from './ssh.js';

/** What one discovery run found (`POST /api/v1/hosts/{id}/discovery:run`). */
export interface DiscoveryResult {
  host_id: string;
  ok: boolean;
  discovered_at: string;
  /** Why the connection failed; null when it succeeded. */
  error: string | null;
  credential_id: string;
  /** The facts found; null when the connection failed (the previous facts are kept). */
  facts: DiscoveredFacts | null;
}

/** What a sweep queued (`POST /api/v1/system/discovery/sweep`). */
export interface SweepQueued {
  queued: number;
  host_ids: string[];
  /** Hosts left out: no address, or no credential resolves for them. */
  skipped: number;
}

/** A host's stored discovery: when, and what it found (facts of the last success). */
export interface StoredDiscovery {
  discovered_at: number;
  facts: DiscoveredFacts | null;
  error: string | null;
}

/** Seconds one discovery command may run. */
const COMMAND_TIMEOUT_MS = 20_000;

/**
 * Agentless discovery: logs in to a host with its resolved credential and runs the fixed,
 * read-only commands of the fact groups being collected (`DISCOVERY_COMMANDS`), parsing their
 * output into system facts kept per host. The periodic sweep (when enabled) visits hosts whose
 * facts are older than the intelligence interval; a requested sweep visits every host with an
 * address and a credential, in the background.
 */
export function createDiscovery(deps: {
  store: HostStore;
  transact: Transact<HostStores>;
  secrets: SecretSource;
  config: () => Promise<DiscoveryConfig>;
  intelligence: () => Promise<IntelligenceConfig>;
  /** Seconds a connection may take to be ready. */
  timeoutSeconds: () => Promise<number>;
  now: () => number;
  log?: (err: unknown, hostId: string) => void;
}) {
  const { store, now } = deps;
  const audited = createAudited(deps.transact, now);
  let sweeping: Promise<void> | undefined;
  let lastSweep = now();

  async function discover(
    host: HostRow,
  ): Promise<Omit<DiscoveryResult, 'discovered_at'> & { at: number }> {
    if (host.address === null)
      throw new VigilError('bad_data', `host ${host.id} has no ip_address to connect to`, {
        code: 'host.no_address',
      });
    const secret = await deps.secrets.secretFor(host.id);
    if (!secret)
      throw new VigilError(
        'not_found',
        `host ${host.id} has no credential of its own and there is no system default credential`,
        { code: 'credential.unresolved' },
      );
    const groups = (await deps.intelligence()).facts;
    const at = now();
    const base = { host_id: host.id, credential_id: secret.credential.id, at };
    let session;
    try {
      session = await sshConnect(
        { host: host.address, port: host.port ?? 22 },
        secret,
        (await deps.timeoutSeconds()) * 1000,
      );
    } catch (err) {
      const kind = err instanceof SshError ? err.failure : 'ssh_error';
      return { ...base, ok: false, error: `${kind}: ${(err as Error).message}`, facts: null };
    }
    try {
      const outputs: Parameters<typeof discoveredFacts>[0] = {};
      for (const c of DISCOVERY_COMMANDS) {
        if (!groups[c.group]) continue;
        try {
          // A fixed environment: parsers read the C locale's output.
          const r = await session.exec(`LC_ALL=C ${c.command}`, COMMAND_TIMEOUT_MS);
          outputs[c.name as DiscoveryCommand] =
            r.code === 0
              ? { ok: true, stdout: r.stdout }
              : { ok: false, error: `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}` };
        } catch (err) {
          outputs[c.name as DiscoveryCommand] = { ok: false, error: (err as Error).message };
        }
      }
      return { ...base, ok: true, error: null, facts: discoveredFacts(outputs) };
    } finally {
      session.close();
    }
  }

  /** Keeps what a run found; a failed run keeps the facts of the last success. */
  async function save(
    s: HostStore,
    r: { host_id: string; at: number; facts: DiscoveredFacts | null; error: string | null },
  ) {
    const prev = r.facts === null ? await s.discovery(r.host_id) : undefined;
    await s.saveDiscovery({
      host_id: r.host_id,
      discovered_at: r.at,
      facts: r.facts !== null ? JSON.stringify(r.facts) : (prev?.facts ?? null),
      error: r.error,
    });
  }

  async function sweep(hosts: HostRow[], concurrency: number): Promise<void> {
    await pool(hosts, concurrency, async (h) => {
      try {
        const r = await discover(h);
        if (await store.get(h.id)) await save(store, r);
      } catch (err) {
        deps.log?.(err, h.id);
      }
    });
  }

  /** Hosts discovery can visit: with an address and a credential. */
  async function candidates(): Promise<{ hosts: HostRow[]; skipped: number }> {
    const all = await store.all();
    const hosts: HostRow[] = [];
    for (const h of all)
      if (h.address !== null && (await deps.secrets.secretFor(h.id)) !== undefined) hosts.push(h);
    return { hosts, skipped: all.length - hosts.length };
  }

  const start = (hosts: HostRow[], concurrency: number) => {
    lastSweep = now();
    sweeping = sweep(hosts, concurrency).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };

  return {
    /**
     * Discovers one host now and keeps what it found (audited).
     * @throws VigilError not_found (`host.not_found`, `credential.unresolved`), bad_data
     * (`host.no_address`).
     */
    async run(ctx: RequestContext, hostId: string): Promise<DiscoveryResult> {
      const host = await store.get(hostId);
      if (!host) throw new VigilError('not_found', `no host ${hostId}`, { code: 'host.not_found' });
      const r = await discover(host);
      await audited(
        ctx,
        { action: 'host.discovery_run', resourceType: 'host', resourceId: hostId },
        async (s, draft) => {
          await save(s.hosts, r);
          draft.entry.detail = { ok: r.ok, credential_id: r.credential_id };
        },
      );
      const { at, ...rest } = r;
      return { ...rest, discovered_at: new Date(at).toISOString() };
    },

    /**
     * Queues discovery of every host with an address and a credential and runs it in the
     * background (audited). @throws VigilError conflict (`discovery.sweep_running`).
     */
    async sweep(ctx: RequestContext): Promise<SweepQueued> {
      if (sweeping)
        throw new VigilError('conflict', 'a discovery sweep is running', {
          code: 'discovery.sweep_running',
        });
      const { hosts, skipped } = await candidates();
      const cfg = await deps.config();
      const queued = { queued: hosts.length, host_ids: hosts.map((h) => h.id), skipped };
      await audited(
        ctx,
        { action: 'system.discovery_sweep', resourceType: 'settings', resourceId: 'discovery' },
        async (_s, draft) => {
          draft.entry.detail = { queued: hosts.length, skipped };
        },
      );
      void start(hosts, cfg.concurrency);
      return queued;
    },

    /** Starts the periodic sweep when enabled and due (a scheduler job). */
    async tick(): Promise<void> {
      if (sweeping) return;
      const cfg = await deps.config();
      if (!cfg.enabled || now() < lastSweep + cfg.interval_seconds * 1000) return;
      const maxAge = (await deps.intelligence()).interval_seconds * 1000;
      const { hosts } = await candidates();
      const stale: HostRow[] = [];
      for (const h of hosts) {
        const d = await store.discovery(h.id);
        if (!d || now() - d.discovered_at >= maxAge) stale.push(h);
      }
      await start(stale, cfg.concurrency);
    },

    /** What discovery last found on a host; undefined before its first run. */
    async stored(hostId: string): Promise<StoredDiscovery | undefined> {
      const d = await store.discovery(hostId);
      if (!d) return undefined;
      return {
        discovered_at: d.discovered_at,
        facts: d.facts === null ? null : (JSON.parse(d.facts) as DiscoveredFacts),
        error: d.error,
      };
    },

    /** Waits for a running sweep to end. */
    async idle(): Promise<void> {
      await sweeping;
    },
  };
}

/** Agentless discovery. */
export type Discovery = ReturnType<typeof createDiscovery>;
