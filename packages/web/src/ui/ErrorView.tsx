import { Component, type ErrorInfo, type ReactNode } from 'react';
import { ApiError } from '../api/client';

/**
 * A failure shown where its content would have been: the server's human message and the
 * correlation id to quote to whoever reads the server's log. Never a blank screen.
 */
export function ErrorView({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const api = error instanceof ApiError ? error : null;
  const text = api ? api.humanMessage : error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="error-box">
      <p>
        <strong>{api ? errorTitle(api) : 'Something went wrong.'}</strong> {text}
      </p>
      {api?.correlationId && (
        <p className="muted small">
          Correlation id: <code>{api.correlationId}</code>
          {api.code ? (
            <>
              {' '}
              · code <code>{api.code}</code>
            </>
          ) : null}
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

function errorTitle(e: ApiError): string {
  if (e.status === 403) return 'Not allowed.';
  if (e.status === 404) return 'Not found.';
  if (e.status === 409) return 'Conflict.';
  if (e.status === 429) return 'Too many attempts.';
  if (e.status >= 500) return 'The server failed.';
  return 'Refused.';
}

/** Catches a screen's rendering failure and shows it instead of unmounting the console. */
export class ErrorBoundary extends Component<
  { children: ReactNode; resetKey?: string },
  { error: unknown; key: string | undefined }
> {
  override state = { error: null as unknown, key: undefined as string | undefined };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  static getDerivedStateFromProps(
    props: { resetKey?: string },
    state: { error: unknown; key: string | undefined },
  ) {
    // Navigating elsewhere clears a failure.
    if (props.resetKey !== state.key) return { error: null, key: props.resetKey };
    return null;
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error(error, info.componentStack);
  }

  override render() {
    if (this.state.error) return <ErrorView error={this.state.error} />;
    return this.props.children;
  }
}
