import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { ago, dateTime } from '../../ui/format';
import { Loading, Page, StatusBadge } from '../../ui/Page';
import { JOB_STATES, retryable, useJobs, type Job, type JobState } from './queries';
import '../config/config.css';
import './jobs.css';

/**
 * The job queue (`/admin/jobs`): notification deliveries, probes and periodic work, newest
 * first, filtered by state and kind, with attempts, the last error and times. With
 * `jobs:write`, a dead job (or one waiting after a failed attempt) is retried by hand.
 */
export function JobsScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const { query } = useLocation();
  const state = (JOB_STATES as readonly string[]).includes(query.get('state') ?? '')
    ? (query.get('state') as JobState)
    : null;
  const kind = query.get('kind') ?? '';
  const jobs = useJobs({ state, kind: kind.trim() });
  const retry = useMutation({
    mutationFn: (j: Job) =>
      unwrap(api.POST('/api/v1/jobs/{id}:retry', { params: { path: { id: j.id } } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['jobs'] });
    },
  });
  const items = jobs.data?.pages.flatMap((p) => p.items) ?? [];
  const write = can('jobs:write');

  return (
    <Page
      title="Jobs"
      subtitle="Work the server does in the background: deliveries, probes, periodic runs. Failed attempts are retried with backoff; a job out of attempts is dead."
      actions={
        <button type="button" onClick={() => void jobs.refetch()} disabled={jobs.isFetching}>
          Refresh
        </button>
      }
    >
      <div className="row jobs-filters">
        <label>
          State
          <select
            value={state ?? ''}
            onChange={(e) => setQueryParam('state', e.target.value || null)}
          >
            <option value="">Any state</option>
            {JOB_STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <input
            type="search"
            value={kind}
            spellCheck={false}
            placeholder="notification.deliver"
            onChange={(e) => setQueryParam('kind', e.target.value || null)}
          />
        </label>
      </div>
      <div className="jobs-outcome" role="status" aria-live="polite">
        {retry.data && (
          <p className="ok-text">
            Job {retry.data.id} ({retry.data.kind}) retried: now {retry.data.state}, attempts reset.
          </p>
        )}
      </div>
      {retry.error && <ErrorView error={retry.error} />}
      {jobs.error ? (
        <ErrorView error={jobs.error} onRetry={() => void jobs.refetch()} />
      ) : !jobs.data ? (
        <Loading height={320} />
      ) : (
        <>
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Jobs table">
            <table aria-label="Jobs" className="jobs-table">
              <thead>
                <tr>
                  <th scope="col">Job</th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">
                    Attempts
                  </th>
                  <th scope="col">Last error</th>
                  <th scope="col">Created</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Finished</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.length === 0 && (
                  <tr>
                    <td colSpan={8} className="muted">
                      {state || kind ? 'No job matches.' : 'No job yet.'}
                    </td>
                  </tr>
                )}
                {items.map((j) => (
                  <tr key={j.id}>
                    <td>
                      <code>{j.kind}</code>
                      <div className="muted small">{j.id}</div>
                    </td>
                    <td>
                      <StatusBadge status={j.state} />
                    </td>
                    <td className="num">
                      {j.attempts} / {j.max_attempts}
                    </td>
                    <td className="job-error">
                      {j.last_error ?? <span className="muted">none</span>}
                    </td>
                    <td title={dateTime(j.created_at)}>{ago(j.created_at)}</td>
                    <td>{j.state === 'queued' ? dateTime(j.run_at) : '—'}</td>
                    <td>{dateTime(j.finished_at)}</td>
                    <td className="row-actions">
                      {write && retryable(j) && (
                        <button
                          type="button"
                          className="small-button"
                          disabled={retry.isPending}
                          onClick={() => retry.mutate(j)}
                        >
                          Retry<span className="visually-hidden"> job {j.id}</span>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {jobs.hasNextPage && (
            <div className="actions">
              <button
                type="button"
                disabled={jobs.isFetchingNextPage}
                onClick={() => void jobs.fetchNextPage()}
              >
                Older jobs
              </button>
            </div>
          )}
        </>
      )}
    </Page>
  );
}
