import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../../api/client';
import { Dialog } from '../../ui/Dialog';
import { ErrorView } from '../../ui/ErrorView';
import { fieldErrorOf } from '../rules/field-errors';
import { Field } from '../rules/FieldMessage';
import { ChannelSettings } from './ChannelSettings';
import { channelDraft, filtersOf, settingsOf, type ChannelDraft } from './draft';
import { CHANNELS_KEY, TYPE_TEXT, type Channel, type ChannelType } from './queries';

const SEVERITIES = ['info', 'warning', 'critical'] as const;

/**
 * Creates a notification channel (`POST /api/v1/notifications/channels`) or changes one
 * (`PATCH …/{id}`): its type's settings, routing filters and pacing. A refusal of the server is
 * shown on the field it names.
 */
export function ChannelFormDialog(props: {
  open: boolean;
  channel: Channel | null;
  onClose: () => void;
}) {
  return (
    <Dialog
      open={props.open}
      title={props.channel ? `Change channel ${props.channel.name}` : 'Create channel'}
      onClose={props.onClose}
      wide
    >
      <ChannelForm channel={props.channel} onDone={props.onClose} />
    </Dialog>
  );
}

function ChannelForm({ channel, onDone }: { channel: Channel | null; onDone: () => void }) {
  const qc = useQueryClient();
  const [draft, setDraft] = useState<ChannelDraft>(() => channelDraft(channel));
  const set = (patch: Partial<ChannelDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name: draft.name.trim(),
        enabled: draft.enabled,
        settings: settingsOf(draft),
        filters: filtersOf(draft),
        group_wait_seconds: Number(draft.groupWait || 0),
        repeat_interval_seconds: Number(draft.repeatInterval || 0),
        rate_limit_per_hour: Number(draft.rateLimit || 0),
        send_resolved: draft.sendResolved,
      };
      return channel
        ? unwrap(
            api.PATCH('/api/v1/notifications/channels/{id}', {
              params: { path: { id: channel.id } },
              body,
            }),
          )
        : unwrap(
            api.POST('/api/v1/notifications/channels', { body: { ...body, type: draft.type } }),
          );
    },
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: CHANNELS_KEY });
      onDone();
    },
  });
  const error = fieldErrorOf(save.error);
  function submit(e: FormEvent) {
    e.preventDefault();
    save.mutate();
  }
  return (
    <form className="stack" onSubmit={submit}>
      <div className="config-grid">
        <Field
          label="Name"
          field="name"
          error={error}
          required
          value={draft.name}
          onValue={(name) => set({ name })}
        />
        <label>
          Type
          <select
            value={draft.type}
            disabled={channel !== null}
            onChange={(e) =>
              setDraft({ ...channelDraft(null, e.target.value as ChannelType), name: draft.name })
            }
          >
            {(Object.keys(TYPE_TEXT) as ChannelType[]).map((t) => (
              <option key={t} value={t}>
                {TYPE_TEXT[t]}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          <input
            type="checkbox"
            checked={draft.enabled}
            onChange={(e) => set({ enabled: e.target.checked })}
          />
          Enabled
        </label>
      </div>
      <ChannelSettings channel={channel} draft={draft} set={set} error={error} />
      <fieldset className="config-fieldset">
        <legend>Routing</legend>
        <p className="muted">
          An alert reaches this channel when every filter that is filled matches it.
        </p>
        <div className="row" role="group" aria-label="Severities">
          {SEVERITIES.map((s) => (
            <label key={s} className="inline">
              <input
                type="checkbox"
                checked={draft.severities.includes(s)}
                onChange={(e) =>
                  set({
                    severities: e.target.checked
                      ? [...draft.severities, s]
                      : draft.severities.filter((x) => x !== s),
                  })
                }
              />
              {s}
            </label>
          ))}
          <span className="muted small">None ticked: every severity.</span>
        </div>
        <div className="config-grid">
          <Field
            label="Host tags"
            field="filters.host_tags"
            error={error}
            placeholder="Any tag"
            value={draft.hostTags}
            onValue={(hostTags) => set({ hostTags })}
          />
          <Field
            label="Environments"
            field="filters.environments"
            error={error}
            placeholder="Any environment"
            value={draft.environments}
            onValue={(environments) => set({ environments })}
          />
          <Field
            label="Rule ids"
            field="filters.rule_ids"
            error={error}
            placeholder="Any rule"
            value={draft.ruleIds}
            onValue={(ruleIds) => set({ ruleIds })}
          />
        </div>
      </fieldset>
      <fieldset className="config-fieldset">
        <legend>Grouping, reminders and rate limit</legend>
        <div className="config-grid">
          <Field
            label="Group wait (seconds)"
            field="group_wait_seconds"
            error={error}
            type="number"
            min={0}
            max={3600}
            value={draft.groupWait}
            onValue={(groupWait) => set({ groupWait })}
            hint="Alerts of one rule within this wait go out as one message."
          />
          <Field
            label="Reminder interval (seconds)"
            field="repeat_interval_seconds"
            error={error}
            type="number"
            min={0}
            value={draft.repeatInterval}
            onValue={(repeatInterval) => set({ repeatInterval })}
            hint="Repeats while unacknowledged; 0: no reminders."
          />
          <Field
            label="Messages per hour at most"
            field="rate_limit_per_hour"
            error={error}
            type="number"
            min={1}
            max={10000}
            value={draft.rateLimit}
            onValue={(rateLimit) => set({ rateLimit })}
            hint="Beyond it, alerts are folded into an hourly summary."
          />
        </div>
        <label className="inline">
          <input
            type="checkbox"
            checked={draft.sendResolved}
            onChange={(e) => set({ sendResolved: e.target.checked })}
          />
          Tell when alerts resolve
        </label>
      </fieldset>
      {save.error && !error && <ErrorView error={save.error} />}
      <div className="actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={save.isPending}>
          {channel ? 'Save channel' : 'Create channel'}
        </button>
      </div>
    </form>
  );
}
