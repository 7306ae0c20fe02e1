import { createAudited, type Transact } from '../audit/audited.js';
import type { RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { ConnectivityConfig } from '../system/settings.js';
import type { HostStores } from './admin.js';
import type { HostRow, HostStore, LivenessRow } from './service.js';
import { sshConnect, SshError, tcpProbe, type SshAuth, type SshFailure } from './ssh.js';

/** The credential a host uses, with its secrets, as agentless access needs it. Declared where used. */
export interface SecretSource {
  /** Undefined when the host has no credential and there is no system default. */
  secretFor(
    hostId: string,
  ): Promise<(SshAuth & { credential: { id: string; auth_method: string } }) | undefined>;
}

/** What one connectivity check found (`POST /api/v1/hosts/{id}/connectivity:check`). */
export interface ConnectivityResult {
  host_id: string;
  state: 'reachable' | 'unreachable';
  checked_at: string;
  consecutive_failures: number;
  response_ms: number | null;
  tcp: {
    ok: boolean;
    address: string;
    port: number;
    response_ms: number | null;
    error: string | null;
  };
  ssh: {
    attempted: boolean;
    ok: boolean | null;
    failure: SshFailure | null;
    error: string | null;
    credential_id: string | null;
    host_key_fingerprint: string | null;
  };
}

/** What the connectivity worker is doing (`GET /api/v1/system/connectivity/status`). */
export interface ConnectivityStatus {
  state: 'idle' | 'running' | 'disabled';
  last_sweep_started_at: string | null;
  last_sweep_finished_at: string | null;
  /** Hosts probed in the last finished sweep (or so far in the running one). */
  hosts_probed: number;
  hosts_reachable: number;
  hosts_unreachable: number;
  /** Hosts of the running sweep not probed yet. */
  queue: number;
  next_sweep_at: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Runs `fn` over `items`, at most `concurrency` at once. */
export async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/**
 * Connectivity of hosts: a check connects to the host's address and SSH port (22 unless set),
 * then, when a credential resolves, completes the SSH handshake and logs in with it. A host is
 * reachable when the port answers and the login, if attempted, succeeds; a refused login is
 * recorded as unreachable with its reason. The worker checks every host with an address on the
 * configured schedule (`tick`, run by the scheduler every few seconds).
 */
export function createConnectivity(deps: {
  store: HostStore;
  transact: Transact<HostStores>;
  secrets: SecretSource;
  config: () => Promise<ConnectivityConfig>;
  now: () => number;
  log?: (err: unknown, hostId: string) => void;
}) {
  const { store, now } = deps;
  const audited = createAudited(deps.transact, now);
  const status = {
    running: false,
    startedAt: null as number | null,
    finishedAt: null as number | null,
    probed: 0,
    reachable: 0,
    unreachable: 0,
    queue: 0,
  };
  let sweeping: Promise<void> | undefined;
  /** The first sweep starts one interval after the server did. */
  const startedAt = now();

  async function probe(host: HostRow, timeoutMs: number): Promise<ConnectivityResult> {
    if (host.address === null)
      throw new VigilError('bad_data', `host ${host.id} has no ip_address to connect to`, {
        code: 'host.no_address',
      });
    const target = { host: host.address, port: host.port ?? 22 };
    const at = now();
    const tcp = await tcpProbe(target, timeoutMs);
    const ssh: ConnectivityResult['ssh'] = {
      attempted: false,
      ok: null,
      failure: null,
      error: null,
      credential_id: null,
      host_key_fingerprint: null,
    };
    if (tcp.ok) {
      const secret = await deps.secrets.secretFor(host.id);
      if (secret) {
        ssh.attempted = true;
        ssh.credential_id = secret.credential.id;
        try {
          const session = await sshConnect(target, secret, timeoutMs);
          ssh.host_key_fingerprint = session.hostKeyFingerprint;
          session.close();
          ssh.ok = true;
        } catch (err) {
          ssh.ok = false;
          ssh.failure = err instanceof SshError ? err.failure : 'ssh_error';
          ssh.error = (err as Error).message;
        }
      }
    }
    const reachable = tcp.ok && ssh.ok !== false;
    const prev = await store.liveness(host.id);
    const state = reachable ? 'reachable' : 'unreachable';
    return {
      host_id: host.id,
      state,
      checked_at: new Date(at).toISOString(),
      consecutive_failures: reachable ? 0 : (prev?.consecutive_failures ?? 0) + 1,
      response_ms: tcp.ok ? tcp.ms : null,
      tcp: {
        ok: tcp.ok,
        address: target.host,
        port: target.port,
        response_ms: tcp.ok ? tcp.ms : null,
        error: tcp.ok ? null : `${tcp.failure}: ${tcp.error}`,
      },
      ssh,
    };
  }

  const livenessOf = (r: ConnectivityResult): LivenessRow => ({
    host_id: r.host_id,
    state: r.state,
    checked_at: Date.parse(r.checked_at),
    consecutive_failures: r.consecutive_failures,
    response_ms: r.response_ms,
    error:
      r.tcp.error !== null
        ? `tcp ${r.tcp.error}`
        : r.ssh.ok === false
          ? `ssh ${r.ssh.failure}: ${r.ssh.error}`
          : null,
    ssh_ok: r.ssh.ok === null ? null : r.ssh.ok ? 1 : 0,
  });

  async function sweep(cfg: ConnectivityConfig): Promise<void> {
    const hosts = (await store.all()).filter((h) => h.address !== null);
    Object.assign(status, {
      running: true,
      startedAt: now(),
      probed: 0,
      reachable: 0,
      unreachable: 0,
      queue: hosts.length,
    });
    try {
      await pool(hosts, cfg.concurrency, async (h) => {
        status.queue--;
        try {
          const r = await probe(h, cfg.timeout_seconds * 1000);
          // The host may have been deleted while it was probed.
          if (await store.get(h.id)) await store.saveLiveness(livenessOf(r));
          status.probed++;
          if (r.state === 'reachable') status.reachable++;
          else status.unreachable++;
        } catch (err) {
          deps.log?.(err, h.id);
        }
      });
    } finally {
      status.running = false;
      status.finishedAt = now();
    }
  }

  return {
    /**
     * Checks one host now and records what it found (audited).
     * @throws VigilError not_found (`host.not_found`), bad_data (`host.no_address`).
     */
    async check(ctx: RequestContext, hostId: string): Promise<ConnectivityResult> {
      const host = await store.get(hostId);
      if (!host) throw new VigilError('not_found', `no host ${hostId}`, { code: 'host.not_found' });
      const cfg = await deps.config();
      const r = await probe(host, cfg.timeout_seconds * 1000);
      await audited(
        ctx,
        { action: 'host.connectivity_check', resourceType: 'host', resourceId: hostId },
        async (s, draft) => {
          await s.hosts.saveLiveness(livenessOf(r));
          draft.entry.detail = { state: r.state, ssh_attempted: r.ssh.attempted };
        },
      );
      return r;
    },

    /** Starts a sweep when the worker is enabled and its interval has passed (a scheduler job). */
    async tick(): Promise<void> {
      if (sweeping) return;
      const cfg = await deps.config();
      if (!cfg.enabled) return;
      const due = (status.startedAt ?? startedAt) + cfg.interval_seconds * 1000;
      if (now() < due) return;
      sweeping = sweep(cfg).finally(() => {
        sweeping = undefined;
      });
      await sweeping;
    },

    /** What the worker is doing. */
    async status(): Promise<ConnectivityStatus> {
      const cfg = await deps.config();
      return {
        state: !cfg.enabled ? 'disabled' : status.running ? 'running' : 'idle',
        last_sweep_started_at: iso(status.startedAt),
        last_sweep_finished_at: iso(status.finishedAt),
        hosts_probed: status.probed,
        hosts_reachable: status.reachable,
        hosts_unreachable: status.unreachable,
        queue: status.queue,
        next_sweep_at: cfg.enabled
          ? iso((status.startedAt ?? startedAt) + cfg.interval_seconds * 1000)
          : null,
      };
    },
  };
}

/** Hosts' connectivity: checks and the worker. */
export type Connectivity = ReturnType<typeof createConnectivity>;
