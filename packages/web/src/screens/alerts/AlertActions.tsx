import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { alertKeys, type Alert, type AlertState } from './queries';
import { SilenceAlertDialog } from './SilenceAlertDialog';

/** A person's action on an alert (silence has its own dialog). */
type Action = 'acknowledge' | 'resolve' | 'dismiss';

/** The states each action is valid in, as the lifecycle allows it. */
const VALID: Record<Action | 'silence', readonly AlertState[]> = {
  acknowledge: ['active', 'silenced'],
  silence: ['active', 'acknowledged'],
  resolve: ['active', 'acknowledged', 'silenced'],
  dismiss: ['active', 'acknowledged', 'silenced'],
};

const LABEL: Record<Action, { button: string; title: string; help: string }> = {
  acknowledge: {
    button: 'Acknowledge',
    title: 'Acknowledge this alert',
    help: 'Someone is on it: reminders stop, the alert stays open until it resolves.',
  },
  resolve: {
    button: 'Resolve',
    title: 'Resolve this alert',
    help: 'Closes the alert now. If the condition still holds, a new alert opens.',
  },
  dismiss: {
    button: 'Dismiss',
    title: 'Dismiss this alert',
    help: 'Closes the alert as not worth acting on.',
  },
};

/** One action's dialog: an optional reason, then the action; a refusal is shown in it. */
function ActionDialog(props: { alert: Alert; action: Action | null; onClose: () => void }) {
  const qc = useQueryClient();
  const [reason, setReason] = useState('');
  const act = useMutation({
    mutationFn: (action: Action) => {
      const params = { path: { id: props.alert.id } };
      const body = reason.trim() ? { reason: reason.trim() } : {};
      if (action === 'acknowledge')
        return unwrap(api.POST('/api/v1/alerts/{id}:acknowledge', { params, body }));
      if (action === 'resolve')
        return unwrap(api.POST('/api/v1/alerts/{id}:resolve', { params, body }));
      return unwrap(api.POST('/api/v1/alerts/{id}:dismiss', { params, body }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: alertKeys.detail(props.alert.id), exact: true });
      close();
    },
  });
  const close = () => {
    setReason('');
    act.reset();
    props.onClose();
  };
  const a = props.action;
  return (
    <Dialog open={a !== null} title={a ? LABEL[a].title : ''} onClose={close}>
      {a && (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            act.mutate(a);
          }}
        >
          <p>{LABEL[a].help}</p>
          <label>
            Reason (optional)
            <textarea value={reason} maxLength={1000} onChange={(e) => setReason(e.target.value)} />
          </label>
          {act.isError && <ErrorView error={act.error} />}
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button
              type="submit"
              className={a === 'acknowledge' ? 'primary' : 'danger'}
              disabled={act.isPending}
            >
              {LABEL[a].button}
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/**
 * The actions on an alert for callers holding `alerts:write`, each shown only in the states
 * where the lifecycle allows it: acknowledge, silence until a time, resolve, dismiss. A refusal
 * (409 when the alert changed meanwhile) is shown with the server's message.
 */
export function AlertActions({ alert }: { alert: Alert }) {
  const can = useCan();
  const [action, setAction] = useState<Action | null>(null);
  const [silencing, setSilencing] = useState(false);
  if (!can('alerts:write')) return null;
  const shown = (['acknowledge', 'resolve', 'dismiss'] as const).filter((x) =>
    VALID[x].includes(alert.state),
  );
  const silence = VALID.silence.includes(alert.state);
  // The dialogs stay while open even when the alert moves on meanwhile (another person, or Vigil):
  // the action then answers 409, shown in the dialog.
  return (
    <>
      <div className="alert-actions" hidden={!shown.length && !silence}>
        {shown.includes('acknowledge') && (
          <button type="button" className="primary" onClick={() => setAction('acknowledge')}>
            Acknowledge
          </button>
        )}
        {silence && (
          <button type="button" onClick={() => setSilencing(true)}>
            Silence
          </button>
        )}
        {shown.includes('resolve') && (
          <button type="button" onClick={() => setAction('resolve')}>
            Resolve
          </button>
        )}
        {shown.includes('dismiss') && (
          <button type="button" onClick={() => setAction('dismiss')}>
            Dismiss
          </button>
        )}
      </div>
      <ActionDialog alert={alert} action={action} onClose={() => setAction(null)} />
      <SilenceAlertDialog alert={alert} open={silencing} onClose={() => setSilencing(false)} />
    </>
  );
}
