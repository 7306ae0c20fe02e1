import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { duration } from '../../ui/format';
import { Loading, Page } from '../../ui/Page';
import { adminKeys } from './queries';
import './admin.css';

/**
 * Fleet-wide settings: the collection interval every Vigil agent uses (`GET`/`POST
 * /api/v1/settings/refresh`). A value the API refuses is shown with its message.
 */
export function SettingsScreen() {
  const can = useCan();
  const qc = useQueryClient();
  const refresh = useQuery({
    queryKey: adminKeys.settings,
    queryFn: () => unwrap(api.GET('/api/v1/settings/refresh')),
  });
  const [value, setValue] = useState('');
  useEffect(() => {
    if (refresh.data) setValue(refresh.data.interval === null ? '' : String(refresh.data.interval));
  }, [refresh.data]);
  const save = useMutation({
    mutationFn: (interval: number) =>
      unwrap(api.POST('/api/v1/settings/refresh', { body: { interval } })),
    onSuccess: (data) => qc.setQueryData(adminKeys.settings, data),
  });
  const write = can('settings:write');
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate(Number(value));
  }

  return (
    <Page title="Settings" subtitle="Settings that apply to the whole fleet.">
      <section className="card settings-card" aria-labelledby="refresh-title">
        <h2 id="refresh-title">Collection interval</h2>
        <p className="muted">
          How often every Vigil agent collects and sends its data. Agents apply it at their next
          contact. openITCOCKPIT agents keep their own <code>interval</code>.
        </p>
        {refresh.error ? (
          <ErrorView error={refresh.error} onRetry={() => void refresh.refetch()} />
        ) : !refresh.data ? (
          <Loading height={110} />
        ) : (
          <form className="stack" onSubmit={submit}>
            <p>
              Now:{' '}
              <strong>
                {refresh.data.interval === null
                  ? 'not set — each agent uses its own interval'
                  : `every ${duration(refresh.data.interval)}`}
              </strong>
            </p>
            <div className="row">
              <label>
                Interval in seconds (1 to 3600)
                <input
                  type="number"
                  inputMode="numeric"
                  required
                  readOnly={!write}
                  value={value}
                  aria-describedby="refresh-help"
                  onChange={(e) => {
                    save.reset();
                    setValue(e.target.value);
                  }}
                />
              </label>
              {write && (
                <button type="submit" className="primary" disabled={save.isPending}>
                  {save.isPending ? 'Saving…' : 'Save interval'}
                </button>
              )}
            </div>
            <p id="refresh-help" className="small muted">
              Shorter intervals give finer charts and more load on the server and the agents.
            </p>
            {save.error && <ErrorView error={save.error} />}
            {save.isSuccess && (
              <p role="status" className="ok-text">
                Saved: agents collect every {duration(save.data.interval)} from their next contact.
              </p>
            )}
          </form>
        )}
      </section>
    </Page>
  );
}
