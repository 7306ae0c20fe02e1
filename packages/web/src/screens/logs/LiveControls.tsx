import { writeQuery } from './query';
import type { TailStatus } from './useLiveTail';

/**
 * The live tail's controls: the toggle (kept in the address), and while it is on its state
 * (connecting, live, paused with the lines waiting, reconnecting) and pause/resume.
 */
export function LiveControls(props: {
  on: boolean;
  paused: boolean;
  status: TailStatus;
  waiting: number;
  onPause: (paused: boolean) => void;
}) {
  const { on, paused, status } = props;
  const state = !on
    ? null
    : paused
      ? `Paused${props.waiting ? ` · ${props.waiting.toLocaleString('en-US')} new ${props.waiting === 1 ? 'line' : 'lines'} waiting` : ''}`
      : status === 'live'
        ? 'Live'
        : status === 'reconnecting'
          ? 'Reconnecting…'
          : 'Connecting…';
  return (
    <div className="log-live">
      {state && (
        <span
          className={`log-live-state ${paused ? 'paused' : status}`}
          role="status"
          aria-live="polite"
        >
          <span className="dot" aria-hidden="true" />
          {state}
        </span>
      )}
      {on && (
        <button type="button" onClick={() => props.onPause(!paused)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
      )}
      <button
        type="button"
        aria-pressed={on}
        onClick={() => {
          props.onPause(false);
          writeQuery({ live: !on });
        }}
      >
        Live tail
      </button>
    </div>
  );
}
