import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { CopyField } from '../../ui/CopyButton';
import { ConfirmDialog, Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { adminKeys, type User } from './queries';

/** What an operator does to a user, each asked first. */
export type UserAction = 'reset-password' | 'reset-mfa' | 'disable' | 'enable';

const TEXT: Record<UserAction, { title: string; confirm: string; body: string; danger: boolean }> =
  {
    'reset-password': {
      title: 'Reset the password of',
      confirm: 'Reset password',
      body: 'A temporary password is generated and shown once. Their sessions end, and they must choose a new password at the next sign-in.',
      danger: true,
    },
    'reset-mfa': {
      title: 'Turn off two-factor authentication of',
      confirm: 'Reset MFA',
      body: 'They sign in with their password alone until they enrol an authenticator again (for a lost device).',
      danger: true,
    },
    disable: {
      title: 'Disable',
      confirm: 'Disable user',
      body: 'They can no longer sign in; their sessions and tokens stop working at once. They can be enabled again.',
      danger: true,
    },
    enable: {
      title: 'Enable',
      confirm: 'Enable user',
      body: 'They can sign in again.',
      danger: false,
    },
  };

/**
 * Carries out one action on a user after a confirmation; a password reset then shows the
 * temporary password once, with a Copy button.
 */
export function UserActionDialog(props: {
  user: User | null;
  action: UserAction | null;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const run = useMutation({
    mutationFn: async ({ user, action }: { user: User; action: UserAction }) => {
      const path = { params: { path: { id: user.id } } };
      switch (action) {
        case 'reset-password':
          return (await unwrap(api.POST('/api/v1/users/{id}:reset-password', path)))
            .temporary_password;
        case 'reset-mfa':
          await unwrap(api.POST('/api/v1/users/{id}:reset-mfa', path));
          return undefined;
        case 'disable':
          await unwrap(api.POST('/api/v1/users/{id}:disable', path));
          return undefined;
        case 'enable':
          await unwrap(api.POST('/api/v1/users/{id}:enable', path));
          return undefined;
      }
    },
    onSuccess: async (temporary) => {
      await qc.invalidateQueries({ queryKey: adminKeys.users });
      if (!temporary) close();
    },
  });
  const close = () => {
    run.reset();
    props.onClose();
  };
  const { user, action } = props;
  if (run.data && user)
    return (
      <Dialog open title={`New password of ${user.username}`} onClose={close}>
        <div className="stack">
          <p className="notice" role="status">
            Give this temporary password to <strong>{user.username}</strong>. It is shown only now;
            they choose their own at the next sign-in.
          </p>
          <CopyField value={run.data} label="Temporary password" />
          <div className="actions">
            <button type="button" className="primary" onClick={close}>
              Done
            </button>
          </div>
        </div>
      </Dialog>
    );
  const t = action ? TEXT[action] : null;
  return (
    <ConfirmDialog
      open={user !== null && t !== null}
      title={t && user ? `${t.title} ${user.username}?` : ''}
      confirmLabel={t?.confirm ?? ''}
      danger={t?.danger}
      busy={run.isPending}
      onClose={close}
      onConfirm={() => user && action && run.mutate({ user, action })}
    >
      <p>{t?.body}</p>
      {run.error && <ErrorView error={run.error} />}
    </ConfirmDialog>
  );
}
