import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { useCan } from '../../app/session';
import { ConfirmDialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { EnabledToggle } from '../rules/EnabledToggle';
import { Loading, Page, StatusBadge } from '../../ui/Page';
import { ChannelFormDialog } from './ChannelForm';
import {
  CHANNELS_KEY,
  destinationText,
  routingText,
  TYPE_TEXT,
  useChannels,
  type Channel,
} from './queries';
import { TestOutcome } from './TestOutcome';
import '../config/config.css';
import '../rules/rules.css';
import './notifications.css';

/**
 * The notification channels (`/notifications`): where alerts are sent, with their routing and
 * whether they are on. With `notifications:write`: create, change, turn on and off, delete, and
 * Test, which sends one message now and says whether it was delivered or why not.
 */
export function NotificationsScreen() {
  const can = useCan();
  const write = can('notifications:write');
  const qc = useQueryClient();
  const list = useChannels();
  const [editing, setEditing] = useState<Channel | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const replace = (c: Channel) =>
    qc.setQueryData(CHANNELS_KEY, (old: typeof list.data) =>
      old ? { ...old, items: old.items.map((x) => (x.id === c.id ? c : x)) } : old,
    );
  const toggle = useMutation({
    mutationFn: (v: { id: string; enabled: boolean }) =>
      unwrap(
        api.PATCH('/api/v1/notifications/channels/{id}', {
          params: { path: { id: v.id } },
          body: { enabled: v.enabled },
        }),
      ),
    onSuccess: replace,
  });
  const test = useMutation({
    mutationFn: (c: Channel) =>
      unwrap(
        api.POST('/api/v1/notifications/channels/{id}:test', { params: { path: { id: c.id } } }),
      ),
  });
  const remove = useMutation({
    mutationFn: (c: Channel) =>
      unwrap(api.DELETE('/api/v1/notifications/channels/{id}', { params: { path: { id: c.id } } })),
    onSuccess: async () => {
      setDeleting(null);
      await qc.invalidateQueries({ queryKey: CHANNELS_KEY });
    },
  });

  return (
    <Page
      title="Notification channels"
      subtitle="Where alerts are sent. Secrets go in and never come out."
      actions={
        write && (
          <button type="button" className="primary" onClick={() => setEditing('new')}>
            Create channel
          </button>
        )
      }
    >
      <TestOutcome
        channel={test.variables ?? null}
        pending={test.isPending}
        result={test.data}
        error={test.error}
      />
      {toggle.error && <ErrorView error={toggle.error} />}
      {list.error ? (
        <ErrorView error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data ? (
        <Loading height={240} />
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label="Channels table">
          <table aria-label="Notification channels">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Type</th>
                <th scope="col">Sends to</th>
                <th scope="col">Routing</th>
                <th scope="col">Enabled</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.length === 0 && (
                <tr>
                  <td colSpan={6} className="muted">
                    No channel yet: alerts are recorded and shown, and sent nowhere.
                  </td>
                </tr>
              )}
              {list.data.items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <strong>{c.name}</strong>
                  </td>
                  <td>{TYPE_TEXT[c.type]}</td>
                  <td className="channel-destination">{destinationText(c)}</td>
                  <td>{routingText(c)}</td>
                  <td>
                    {write ? (
                      <EnabledToggle
                        name={c.name}
                        enabled={c.enabled}
                        onToggle={(enabled) => toggle.mutateAsync({ id: c.id, enabled })}
                      />
                    ) : (
                      <StatusBadge status={c.enabled ? 'active' : 'disabled'} />
                    )}
                  </td>
                  <td className="row-actions">
                    {write && (
                      <>
                        <button
                          type="button"
                          className="small-button"
                          disabled={test.isPending}
                          onClick={() => test.mutate(c)}
                        >
                          Test<span className="visually-hidden"> channel {c.name}</span>
                        </button>
                        <button
                          type="button"
                          className="small-button"
                          onClick={() => setEditing(c)}
                        >
                          Edit<span className="visually-hidden"> channel {c.name}</span>
                        </button>
                        <button
                          type="button"
                          className="small-button"
                          onClick={() => {
                            remove.reset();
                            setDeleting(c);
                          }}
                        >
                          Delete<span className="visually-hidden"> channel {c.name}</span>
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ChannelFormDialog
        key={editing === null ? 'closed' : editing === 'new' ? 'new' : editing.id}
        open={editing !== null}
        channel={editing === 'new' ? null : editing}
        onClose={() => setEditing(null)}
      />
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete channel ${deleting?.name ?? ''}?`}
        confirmLabel="Delete channel"
        danger
        busy={remove.isPending}
        onClose={() => setDeleting(null)}
        onConfirm={() => deleting && remove.mutate(deleting)}
      >
        <p>Notifications waiting for it are dropped; alerts it would have carried go nowhere.</p>
        {remove.error && <ErrorView error={remove.error} />}
      </ConfirmDialog>
    </Page>
  );
}
