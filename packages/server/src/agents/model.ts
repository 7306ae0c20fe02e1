import type { AgentStatus, AgentView, PullAutoTls } from '@vigil/protocol';
import type { RequestContext } from '../audit/service.js';
import type { Database } from '../db/schema.js';
import { VigilError } from '../errors.js';

/** An agent as stored. Timestamps are epoch milliseconds. */
export type AgentRow = Omit<Database['agents'], 'pull_autotls'> & { pull_autotls: PullAutoTls };
/** Changes to an agent row. */
export type AgentPatch = Partial<AgentRow>;

/** The settings of the agents domain (section `[agents]` of the configuration). */
export interface AgentPolicy {
  tokenTtlSeconds: number;
  certificateDays: number;
  defaultIntervalSeconds: number;
  autoApproveNetworks: string;
  autoApproveHostnames: string;
  commandTimeoutSeconds: number;
  /** Most pending self-registrations from one source address. */
  pendingPerAddress: number;
  /** How long a pending self-registration waits before it is removed. */
  pendingTtlHours: number;
}

/** What an agent's client certificate looked like on its TLS connection. */
export interface PeerCertificate {
  /** Whether the certificate chains to the Vigil CA and is within its validity. */
  authorized: boolean;
  /** SHA-256 fingerprint, colon hex; undefined when the client sent no certificate. */
  fingerprint?: string;
}

/** Where an agent's request came from, for its audit events. */
export interface Origin {
  sourceAddress: string | null;
  correlationId: string | null;
}

/** An agent is offline after this many missed intervals. */
const MISSED_INTERVALS = 3;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The status `GET /api/v1/agents` shows for a row at `now`. */
export function agentStatus(row: AgentRow, now: number): AgentStatus {
  if (row.approval !== 'approved') return row.approval;
  const fresh =
    row.last_seen !== null &&
    now - row.last_seen <= MISSED_INTERVALS * row.interval_seconds * 1000 + 1000;
  return fresh ? 'online' : 'offline';
}

/** The public form of a row. */
export function toAgentView(row: AgentRow, now: number): AgentView {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    status: agentStatus(row, now),
    architecture: row.architecture,
    os: row.os,
    last_seen: iso(row.last_seen),
    registered_at: new Date(row.registered_at).toISOString(),
    kind: row.kind,
    approval: row.approval,
    host_id: row.host_id,
    version: row.version,
    ip_address: row.ip_address,
    interval_seconds: row.interval_seconds,
    certificate:
      row.cert_fingerprint && row.cert_serial && row.cert_not_after !== null
        ? {
            serial: row.cert_serial,
            fingerprint: row.cert_fingerprint,
            not_after: new Date(row.cert_not_after).toISOString(),
          }
        : null,
    pull: row.pull_address
      ? {
          address: row.pull_address,
          tls: row.pull_tls,
          autotls: row.pull_autotls,
          username: row.pull_username,
          has_password: row.pull_password !== null,
        }
      : null,
    last_error: row.last_error,
    clock_skew_seconds: row.clock_skew_seconds ?? null,
  };
}

/** A new agent row: the given fields, everything else empty. */
export function newAgentRow(
  fields: Pick<AgentRow, 'id' | 'name' | 'kind' | 'approval' | 'interval_seconds'> &
    Partial<AgentRow>,
  at: number,
): AgentRow {
  return {
    host_id: null,
    hostname: null,
    ip_address: null,
    os: null,
    architecture: null,
    version: null,
    secret_hash: null,
    enrollment_token_hash: null,
    enrollment_expires_at: null,
    csr: null,
    cert_serial: null,
    cert_fingerprint: null,
    cert_not_after: null,
    cert_pem: null,
    pull_address: null,
    pull_tls: null,
    pull_autotls: 'auto',
    pull_username: null,
    pull_password: null,
    enrolled_from: null,
    last_seen: null,
    last_error: null,
    clock_skew_seconds: null,
    registered_at: at,
    updated_at: at,
    ...fields,
  };
}

/** The error for an agent that does not exist. */
export const notFound = (id: string) =>
  new VigilError('not_found', `no agent ${id}`, { code: 'agent.not_found' });

/** The row of agent `id`. @throws VigilError not_found */
export async function mustGet(
  store: { get(id: string): Promise<AgentRow | undefined> },
  id: string,
): Promise<AgentRow> {
  const row = await store.get(id);
  if (!row) throw notFound(id);
  return row;
}

/** The audit context of a request an agent made itself. */
export const agentActor = (row: Pick<AgentRow, 'id' | 'hostname'>, origin: Origin) =>
  ({
    actor: { type: 'agent', id: row.id, label: row.hostname ?? row.id },
    correlationId: origin.correlationId,
    sourceAddress: origin.sourceAddress,
  }) satisfies RequestContext;

/** The certificate columns of an agent row for a certificate just issued. */
export const certificateFields = (c: {
  serial: string;
  fingerprint: string;
  notAfterMs: number;
}) => ({
  cert_serial: c.serial,
  cert_fingerprint: c.fingerprint,
  cert_not_after: c.notAfterMs,
});

/**
 * Where an agent's documents go: the agent on its host (the target telemetry's ingest takes).
 * @throws VigilError conflict when the agent is linked to no host.
 */
export function ingestTarget(agent: AgentRow): { agentId: string; hostId: string } {
  if (!agent.host_id)
    throw new VigilError('conflict', `agent ${agent.id} is not linked to a host`, {
      code: 'agent.no_host',
    });
  return { agentId: agent.id, hostId: agent.host_id };
}
