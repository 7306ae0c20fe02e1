import type { FieldError } from '../rules/field-errors';
import { Field, FieldMessage, invalidProps } from '../rules/FieldMessage';
import { hasSecret, SETTINGS, type ChannelDraft, type SecretDraft, type SecretSpec } from './draft';
import type { Channel } from './queries';

/**
 * The settings of a channel's type: its public settings as inputs, and its secrets as
 * write-only controls. A stored secret shows only that it is set, with Change and Remove.
 */
export function ChannelSettings(props: {
  channel: Channel | null;
  draft: ChannelDraft;
  set: (patch: Partial<ChannelDraft>) => void;
  error: FieldError | null;
}) {
  const { channel, draft, set, error } = props;
  const spec = SETTINGS[draft.type];
  const setting = (key: string, v: string) => set({ settings: { ...draft.settings, [key]: v } });
  return (
    <fieldset className="config-fieldset">
      <legend>Settings</legend>
      <div className="config-grid">
        {spec.public.map((f) =>
          f.kind === 'tls' ? (
            <div key={f.key}>
              <label>
                {f.label}
                <select
                  value={draft.settings[f.key] || 'starttls'}
                  {...invalidProps(error, `settings.${f.key}`)}
                  onChange={(e) => setting(f.key, e.target.value)}
                >
                  <option value="starttls">STARTTLS</option>
                  <option value="tls">TLS from the start</option>
                  <option value="none">None</option>
                </select>
              </label>
              <FieldMessage error={error} field={`settings.${f.key}`} />
            </div>
          ) : (
            <Field
              key={f.key}
              label={f.label}
              field={`settings.${f.key}`}
              error={error}
              required={f.required}
              type={f.kind === 'number' ? 'number' : 'text'}
              spellCheck={false}
              placeholder={f.placeholder}
              value={draft.settings[f.key] ?? ''}
              onValue={(v) => setting(f.key, v)}
            />
          ),
        )}
      </div>
      {spec.secrets.map((f) => (
        <SecretField
          key={f.key}
          spec={f}
          stored={hasSecret(channel, f.key)}
          value={draft.secrets[f.key]}
          error={error}
          onChange={(s) => set({ secrets: { ...draft.secrets, [f.key]: s } })}
        />
      ))}
    </fieldset>
  );
}

/**
 * One secret: never filled from the server. Unset: an input. Stored: "set", with Change (an
 * input replaces it) and Remove (unless the type needs it).
 */
function SecretField(props: {
  spec: SecretSpec;
  stored: boolean;
  value: SecretDraft | undefined;
  error: FieldError | null;
  onChange: (s: SecretDraft) => void;
}) {
  const { spec, stored, error, onChange } = props;
  const s = props.value ?? { mode: stored ? 'keep' : 'set', value: '' };
  const field = `settings.${spec.key}`;
  if (stored && s.mode !== 'set')
    return (
      <div className="secret-row">
        <span>
          {spec.label}: <strong>{s.mode === 'remove' ? 'to be removed' : 'set'}</strong>
        </span>
        <button
          type="button"
          className="small-button"
          onClick={() => onChange({ mode: 'set', value: '' })}
        >
          Change<span className="visually-hidden"> {spec.label}</span>
        </button>
        {!spec.required &&
          (s.mode === 'remove' ? (
            <button
              type="button"
              className="small-button"
              onClick={() => onChange({ mode: 'keep', value: '' })}
            >
              Keep<span className="visually-hidden"> {spec.label}</span>
            </button>
          ) : (
            <button
              type="button"
              className="small-button"
              onClick={() => onChange({ mode: 'remove', value: '' })}
            >
              Remove<span className="visually-hidden"> {spec.label}</span>
            </button>
          ))}
        <FieldMessage error={error} field={field} />
      </div>
    );
  const common = {
    value: s.value,
    spellCheck: false,
    autoComplete: 'off',
    placeholder: spec.placeholder,
    required: spec.required && !stored,
    ...invalidProps(error, field),
  };
  return (
    <div>
      <label>
        {stored ? `New ${spec.label.toLowerCase()}` : spec.label}
        {spec.multiline ? (
          <textarea
            rows={3}
            {...common}
            onChange={(e) => onChange({ mode: 'set', value: e.target.value })}
          />
        ) : (
          <input
            type="password"
            {...common}
            autoComplete="new-password"
            onChange={(e) => onChange({ mode: 'set', value: e.target.value })}
          />
        )}
      </label>
      {stored && (
        <button
          type="button"
          className="link"
          onClick={() => onChange({ mode: 'keep', value: '' })}
        >
          Keep the stored {spec.label.toLowerCase()}
        </button>
      )}
      <FieldMessage error={error} field={field} />
    </div>
  );
}
