import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../../api/client';
import { useCan } from '../../../app/session';
import { ErrorView } from '../../../ui/ErrorView';
import { dateTime } from '../../../ui/format';
import type { HostOverview } from '../../fleet/live';

/** A `datetime-local` value as an ISO time, or null when empty. */
function isoOf(local: string): string | null {
  if (!local) return null;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

/**
 * A host's maintenance window: whether it is on, until when and why; with `host:write`, turn it
 * on (until a time, or until turned off, with a reason) or off (`POST
 * /api/v1/hosts/{host_id}/maintenance`).
 */
export function MaintenanceCard({ host }: { host: HostOverview }) {
  const can = useCan();
  const qc = useQueryClient();
  const m = host.maintenance;
  const [until, setUntil] = useState('');
  const [reason, setReason] = useState('');
  const save = useMutation({
    mutationFn: (enabled: boolean) =>
      unwrap(
        api.POST('/api/v1/hosts/{host_id}/maintenance', {
          params: { path: { host_id: host.id } },
          body: enabled
            ? { enabled, until: isoOf(until), reason: reason.trim() || null }
            : { enabled },
        }),
      ),
    onSuccess: (h) => {
      qc.setQueryData(['hosts', host.id], h);
      setUntil('');
      setReason('');
    },
  });
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate(true);
  }
  return (
    <section className="card stack" aria-labelledby="maintenance-title">
      <h2 id="maintenance-title">Maintenance</h2>
      <p role="status">
        {m.enabled ? (
          <>
            <span className="badge status-warning">in maintenance</span>{' '}
            {m.until ? `until ${dateTime(m.until)}` : 'until turned off'}
            {m.reason ? ` — ${m.reason}` : ''}
          </>
        ) : (
          'Not in maintenance.'
        )}
      </p>
      {can('host:write') &&
        (m.enabled ? (
          <div>
            <button type="button" disabled={save.isPending} onClick={() => save.mutate(false)}>
              End maintenance
            </button>
          </div>
        ) : (
          <form className="row" onSubmit={submit}>
            <label>
              Until (optional)
              <input
                type="datetime-local"
                value={until}
                onChange={(e) => setUntil(e.target.value)}
              />
            </label>
            <label>
              Reason
              <input value={reason} onChange={(e) => setReason(e.target.value)} />
            </label>
            <button type="submit" disabled={save.isPending}>
              Start maintenance
            </button>
          </form>
        ))}
      {save.error && <ErrorView error={save.error} />}
    </section>
  );
}
