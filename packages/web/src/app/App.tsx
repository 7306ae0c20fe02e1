import { LoginScreen } from '../screens/login/LoginScreen';
import { PasswordChangeScreen } from '../screens/login/PasswordChangeScreen';
import { api } from '../api/client';
import { ErrorBoundary, ErrorView } from '../ui/ErrorView';
import { Loading } from '../ui/Page';
import { Screen } from './routes';
import { useLocation } from './router';
import { sessionKeys, SessionProvider, useSessionState } from './session';
import { Shell } from './Shell';
import { StreamProvider } from './stream';
import { useQueryClient } from '@tanstack/react-query';

/** The console: sign-in, the forced password change, or the signed-in screens. */
export function App() {
  const state = useSessionState();
  const loc = useLocation();
  const qc = useQueryClient();
  switch (state.kind) {
    case 'loading':
      return <Loading label="Loading Vigil…" height={300} />;
    case 'signed-out':
      return <LoginScreen />;
    case 'error':
      return (
        <main className="login">
          <ErrorView error={state.error} onRetry={() => void qc.resetQueries()} />
        </main>
      );
    case 'password-change':
      return (
        <PasswordChangeScreen
          me={state.me}
          onLogout={() => {
            void api
              .POST('/api/v1/auth/logout')
              .finally(() => void qc.resetQueries({ queryKey: sessionKeys.me }));
          }}
        />
      );
    case 'ready':
      return (
        <SessionProvider session={state.session}>
          <StreamProvider enabled={state.session.can('host:read')}>
            <Shell>
              <ErrorBoundary resetKey={loc.path}>
                <Screen path={loc.path} query={loc.query} />
              </ErrorBoundary>
            </Shell>
          </StreamProvider>
        </SessionProvider>
      );
  }
}
