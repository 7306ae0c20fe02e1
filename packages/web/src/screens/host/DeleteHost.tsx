import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { navigate } from '../../app/router';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { HOSTS_KEY } from '../fleet/live';

/**
 * **Delete host** (`host:delete`): asks, then deletes the host (a soft delete: it disappears
 * everywhere; an agent reporting for it, or adding it again, brings it back) and goes to the
 * fleet.
 */
export function DeleteHost({ id, name }: { id: string; name: string }) {
  const can = useCan();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/api/v1/hosts/{id}', { params: { path: { id } } })),
    onSuccess: () => {
      setOpen(false);
      qc.removeQueries({ queryKey: ['hosts', id] });
      void qc.invalidateQueries({ queryKey: HOSTS_KEY, exact: true });
      navigate('/');
    },
  });
  if (!can('host:delete')) return null;
  return (
    <>
      <button
        type="button"
        className="danger"
        onClick={() => {
          remove.reset();
          setOpen(true);
        }}
      >
        Delete host
      </button>
      <ConfirmDialog
        open={open}
        title={`Delete host ${name}?`}
        confirmLabel="Delete host"
        danger
        busy={remove.isPending}
        onClose={() => setOpen(false)}
        onConfirm={() => remove.mutate()}
      >
        <p>
          The host disappears from every list. Its agent reporting again, or adding a host of the
          same name, brings it back.
        </p>
        {remove.error && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </>
  );
}
