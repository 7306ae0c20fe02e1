import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { alertKeys, type Alert } from './queries';
import { fromLocalInput, toLocalInput, UntilField } from './until';

/** Silences one alert until a time (presets 1 h, 4 h, 24 h, 7 days), with a reason. */
export function SilenceAlertDialog(props: { alert: Alert; open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [until, setUntil] = useState(() => toLocalInput(Date.now() + 3_600_000));
  const [reason, setReason] = useState('');
  const silence = useMutation({
    mutationFn: () => {
      const iso = fromLocalInput(until);
      if (!iso) throw new Error('Choose when the silence ends.');
      return unwrap(
        api.POST('/api/v1/alerts/{id}:silence', {
          params: { path: { id: props.alert.id } },
          body: { until: iso, ...(reason.trim() ? { reason: reason.trim() } : {}) },
        }),
      );
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: alertKeys.detail(props.alert.id), exact: true });
      close();
    },
  });
  const close = () => {
    silence.reset();
    setReason('');
    setUntil(toLocalInput(Date.now() + 3_600_000));
    props.onClose();
  };
  return (
    <Dialog open={props.open} title="Silence this alert" onClose={close}>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          silence.mutate();
        }}
      >
        <p>No notification while silenced; the alert comes back when the time passes.</p>
        <UntilField label="Silence for" value={until} onChange={setUntil} />
        <label>
          Reason
          <textarea value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
        </label>
        {silence.isError && <ErrorView error={silence.error} />}
        <div className="actions">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={silence.isPending}>
            Silence
          </button>
        </div>
      </form>
    </Dialog>
  );
}
