import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../../api/client';
import type { Answer } from '../../../api/types';
import { useCan } from '../../../app/session';
import { ErrorView } from '../../../ui/ErrorView';
import { ago, dateTime } from '../../../ui/format';
import { StatusBadge } from '../../../ui/Page';
import type { HostOverview } from '../../fleet/live';

type CheckResult = Answer<'/api/v1/hosts/{id}/connectivity:check', 'post'>;

/** Runs discovery on a host with a fresh Idempotency-Key. */
const runDiscovery = (id: string) =>
  unwrap(
    api.POST('/api/v1/hosts/{id}/discovery:run', {
      params: { path: { id } },
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    }),
  );
type DiscoveryResult = Awaited<ReturnType<typeof runDiscovery>>;

const STATE_TEXT: Record<HostOverview['liveness']['state'], string> = {
  reachable: 'reachable',
  unreachable: 'unreachable',
  unknown: 'unknown',
  never_probed: 'never probed',
};

/** What an SSH check found, in one sentence. */
function sshText(r: CheckResult): string {
  if (!r.ssh.attempted) return 'SSH not tried: no credential resolves for this host.';
  if (r.ssh.ok)
    return `SSH login succeeded${r.ssh.host_key_fingerprint ? ` (host key ${r.ssh.host_key_fingerprint})` : ''}.`;
  return `SSH failed: ${r.ssh.failure ?? 'error'}${r.ssh.error ? ` — ${r.ssh.error}` : ''}.`;
}

/**
 * A host's connectivity: the last probe's state, when and how fast; with `host:write`, **Check
 * now** (`POST /api/v1/hosts/{id}/connectivity:check`: TCP, then SSH with the resolved
 * credential) and **Run discovery** (`discovery:run`: what the host is, over SSH). Each request
 * carries a fresh Idempotency-Key, so a retried click is not run twice.
 */
export function ConnectivityCard({ host }: { host: HostOverview }) {
  const can = useCan();
  const qc = useQueryClient();
  const l = host.liveness;
  const refresh = () => qc.invalidateQueries({ queryKey: ['hosts', host.id], exact: true });
  const check = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/v1/hosts/{id}/connectivity:check', {
          params: { path: { id: host.id } },
          headers: { 'Idempotency-Key': crypto.randomUUID() },
        }),
      ),
    onSuccess: refresh,
  });
  const discover = useMutation({
    mutationFn: () => runDiscovery(host.id),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['hosts', host.id, 'system-info'] });
    },
  });
  const r = check.data;
  return (
    <section className="card stack" aria-labelledby="connectivity-title">
      <h2 id="connectivity-title">Connectivity</h2>
      <p>
        <StatusBadge status={STATE_TEXT[l.state]} />{' '}
        {l.checked_at ? (
          <span title={dateTime(l.checked_at)}>
            checked {ago(l.checked_at)}
            {l.response_ms !== null ? `, ${l.response_ms} ms` : ''}
            {l.consecutive_failures > 0 ? `, ${l.consecutive_failures} failures in a row` : ''}
          </span>
        ) : (
          <span className="muted">
            {host.ip_address ? 'Not probed yet.' : 'No address: nothing to probe.'}
          </span>
        )}
      </p>
      <p className="muted small">
        Address: {host.ip_address ?? '—'}, SSH port {host.port ?? 22}
      </p>
      {can('host:write') && (
        <div className="button-row">
          <button type="button" disabled={check.isPending} onClick={() => check.mutate()}>
            {check.isPending ? 'Checking…' : 'Check now'}
          </button>
          <button type="button" disabled={discover.isPending} onClick={() => discover.mutate()}>
            {discover.isPending ? 'Discovering…' : 'Run discovery'}
          </button>
        </div>
      )}
      <div role="status" aria-live="polite">
        {r && (
          <p>
            TCP {r.tcp.address}:{r.tcp.port}{' '}
            {r.tcp.ok
              ? `connected in ${r.tcp.response_ms ?? '?'} ms`
              : `failed: ${r.tcp.error ?? 'error'}`}
            . {r.tcp.ok ? sshText(r) : ''}
          </p>
        )}
        {discover.data && <DiscoveryText d={discover.data} />}
      </div>
      {check.error && <ErrorView error={check.error} />}
      {discover.error && <ErrorView error={discover.error} />}
    </section>
  );
}

function DiscoveryText({ d }: { d: DiscoveryResult }) {
  if (!d.ok || !d.facts) return <p>Discovery failed: {d.error ?? 'no facts'}.</p>;
  const os = d.facts.os;
  return (
    <p>
      Discovered {dateTime(d.discovered_at)}:{' '}
      {[os.name, os.version].filter(Boolean).join(' ') || 'unknown system'}
      {os.kernel ? `, kernel ${os.kernel}` : ''}
      {d.facts.cpu.cores ? `, ${d.facts.cpu.cores} cores` : ''}. See System facts.
    </p>
  );
}
