import { ErrorView } from '../../ui/ErrorView';
import type { Channel, TestResult } from './queries';

/**
 * What the last Test of a channel did: sending, delivered (with the receiver's status and the
 * time taken), or the error the channel met. A refused request is shown as any API failure.
 */
export function TestOutcome(props: {
  channel: Channel | null;
  pending: boolean;
  result: TestResult | undefined;
  error: unknown;
}) {
  const { channel, pending, result, error } = props;
  return (
    <div className="test-outcome" role="status" aria-live="polite">
      {channel && pending && <p>Sending a test message on {channel.name}…</p>}
      {channel && !pending && error ? <ErrorView error={error} /> : null}
      {channel && !pending && result && (
        <p className={result.delivered ? 'test-ok' : 'test-failed'}>
          {result.delivered ? (
            <>
              <strong>Delivered</strong> on {channel.name} (
              {[
                result.status !== undefined ? `status ${result.status}` : null,
                `${result.duration_ms} ms`,
              ]
                .filter(Boolean)
                .join(', ')}
              ).
            </>
          ) : (
            <>
              <strong>Not delivered</strong> on {channel.name}: {result.error ?? 'no reason given'}
              {result.status !== undefined ? ` (status ${result.status})` : ''}.
            </>
          )}
        </p>
      )}
    </div>
  );
}
