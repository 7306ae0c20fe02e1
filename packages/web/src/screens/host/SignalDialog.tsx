import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';

/** The signals an operator may send (the API refuses others). */
const SIGNALS = [
  { n: 15, name: 'SIGTERM', text: 'ask it to stop' },
  { n: 1, name: 'SIGHUP', text: 'hang up (many daemons reload)' },
  { n: 2, name: 'SIGINT', text: 'interrupt' },
  { n: 9, name: 'SIGKILL', text: 'kill at once, no clean-up' },
  { n: 19, name: 'SIGSTOP', text: 'pause' },
  { n: 18, name: 'SIGCONT', text: 'resume after a pause' },
] as const;

/**
 * Sends a signal to one process through its agent, in three steps: choose the signal, confirm,
 * then see the outcome (delivered, or the agent's or server's refusal).
 */
export function SignalDialog(props: {
  target: { pid: number; name: string | null; agentId: string } | null;
  onClose: () => void;
}) {
  const { target } = props;
  const [signal, setSignal] = useState<number>(15);
  const [step, setStep] = useState<'choose' | 'confirm'>('choose');
  const send = useMutation({
    mutationFn: (t: { pid: number; agentId: string; signal: number }) =>
      unwrap(
        api.POST('/api/v1/processes/{pid}/signal', {
          params: { path: { pid: t.pid } },
          body: { signal: t.signal, agent_id: t.agentId },
        }),
      ),
  });
  const close = () => {
    setStep('choose');
    setSignal(15);
    send.reset();
    props.onClose();
  };
  const chosen = SIGNALS.find((s) => s.n === signal)!;
  const what = target ? `${target.name ?? 'process'} (pid ${target.pid})` : '';
  return (
    <Dialog open={target !== null} title="Send a signal" onClose={close}>
      {send.isSuccess ? (
        <div className="stack">
          <p role="status" className="ok-text">
            {chosen.name} delivered to {what}.
          </p>
          <div className="actions">
            <button type="button" className="primary" onClick={close}>
              Done
            </button>
          </div>
        </div>
      ) : step === 'choose' ? (
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            setStep('confirm');
          }}
        >
          <fieldset className="signal-choices">
            <legend>Signal for {what}</legend>
            {SIGNALS.map((s) => (
              <label key={s.n} className="inline">
                <input
                  type="radio"
                  name="signal"
                  value={s.n}
                  checked={signal === s.n}
                  onChange={() => setSignal(s.n)}
                />
                <span>
                  <strong>{s.name}</strong> ({s.n}) <span className="muted">— {s.text}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button type="submit" className="primary">
              Continue
            </button>
          </div>
        </form>
      ) : (
        <div className="stack">
          <p>
            Send <strong>{chosen.name}</strong> to <strong>{what}</strong>? The agent delivers it at
            once; this is recorded in the audit log.
          </p>
          {send.isError && <ErrorView error={send.error} />}
          <div className="actions">
            <button type="button" onClick={close}>
              Cancel
            </button>
            <button
              type="button"
              className={signal === 9 || signal === 15 ? 'danger' : 'primary'}
              disabled={send.isPending || !target}
              onClick={() =>
                target && send.mutate({ pid: target.pid, agentId: target.agentId, signal })
              }
            >
              {send.isPending ? 'Sending…' : `Send ${chosen.name}`}
            </button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
