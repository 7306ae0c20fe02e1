import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { fetchFleet, HOSTS_KEY } from '../fleet/live';
import { alertKeys } from './queries';
import { fromLocalInput, toLocalInput, UntilField } from './until';

/**
 * `key=value` lines (or comma-separated pairs) as labels; throws naming the first pair that has
 * no `=` or an empty name.
 */
export function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/[\n,]/)) {
    const pair = raw.trim();
    if (!pair) continue;
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`Labels: "${pair}" is not name=value.`);
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

/**
 * Creates a silence: the host, the rule and the labels it matches (at least one), why, and
 * when it ends. The open alerts it matches are silenced at once.
 */
export function SilenceForm(props: { open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const can = useCan();
  const [host, setHost] = useState('');
  const [rule, setRule] = useState('');
  const [labels, setLabels] = useState('');
  const [reason, setReason] = useState('');
  const [ends, setEnds] = useState(() => toLocalInput(Date.now() + 4 * 3_600_000));
  const hosts = useQuery({
    queryKey: HOSTS_KEY,
    queryFn: fetchFleet,
    enabled: props.open && can('host:read'),
    staleTime: 60_000,
  });
  const rules = useQuery({
    queryKey: alertKeys.rules,
    queryFn: () => unwrap(api.GET('/api/v1/alerts/rules')),
    enabled: props.open,
    staleTime: 60_000,
  });
  const create = useMutation({
    mutationFn: () => {
      const parsed = parseLabels(labels);
      const ends_at = fromLocalInput(ends);
      if (!ends_at) throw new Error('Choose when the silence ends.');
      const matchers = {
        ...(host ? { host_id: host } : {}),
        ...(rule ? { rule_id: rule } : {}),
        ...(Object.keys(parsed).length ? { labels: parsed } : {}),
      };
      if (!Object.keys(matchers).length)
        throw new Error('Choose a host, a rule or labels: a silence needs at least one.');
      return unwrap(
        api.POST('/api/v1/alerts/silences', {
          body: { matchers, ends_at, ...(reason.trim() ? { reason: reason.trim() } : {}) },
        }),
      );
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: alertKeys.silences, exact: true });
      close();
    },
  });
  const close = () => {
    create.reset();
    setHost('');
    setRule('');
    setLabels('');
    setReason('');
    setEnds(toLocalInput(Date.now() + 4 * 3_600_000));
    props.onClose();
  };
  return (
    <Dialog open={props.open} title="New silence" onClose={close}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <p className="muted">
          Matching alerts notify no one until it ends. Every matcher given must match.
        </p>
        <label>
          Host
          {can('host:read') ? (
            <select value={host} onChange={(e) => setHost(e.target.value)}>
              <option value="">Any host</option>
              {(hosts.data?.items ?? []).map((h) => (
                <option key={h.id} value={h.id}>
                  {h.name}
                </option>
              ))}
            </select>
          ) : (
            <input value={host} placeholder="host id" onChange={(e) => setHost(e.target.value)} />
          )}
        </label>
        <label>
          Rule
          <select value={rule} onChange={(e) => setRule(e.target.value)}>
            <option value="">Any rule</option>
            {(rules.data?.items ?? []).map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Labels (name=value, one a line)
          <textarea
            value={labels}
            rows={2}
            placeholder="check=backup"
            onChange={(e) => setLabels(e.target.value)}
          />
        </label>
        <label>
          Reason
          <textarea value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
        </label>
        <UntilField label="Ends" value={ends} onChange={setEnds} />
        {rules.isError && <ErrorView error={rules.error} />}
        {create.isError && <ErrorView error={create.error} />}
        <div className="actions">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={create.isPending}>
            Create silence
          </button>
        </div>
      </form>
    </Dialog>
  );
}
