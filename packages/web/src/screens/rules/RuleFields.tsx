import type { FieldError } from './field-errors';
import { Field, FieldMessage, invalidProps } from './FieldMessage';
import { MatchersEditor } from './MatchersEditor';
import { COMPARATORS, KIND_TEXT, type Comparator, type RuleKind } from './queries';
import type { RuleDraft, ScopeDraft } from './draft';

/** The props every part of the rule form takes. */
export interface PartProps {
  draft: RuleDraft;
  set: (patch: Partial<RuleDraft>) => void;
  error: FieldError | null;
  readOnly: boolean;
}

/** Name, description, enabled and kind. A stored rule's kind does not change. */
export function GeneralFields({
  draft,
  set,
  error,
  readOnly,
  fixedKind,
}: PartProps & { fixedKind: boolean }) {
  return (
    <div className="config-grid">
      <Field
        label="Name"
        field="name"
        error={error}
        required
        readOnly={readOnly}
        value={draft.name}
        onValue={(name) => set({ name })}
      />
      <Field
        label="Description"
        field="description"
        error={error}
        readOnly={readOnly}
        value={draft.description}
        onValue={(description) => set({ description })}
      />
      <div>
        <label>
          Kind
          <select
            value={draft.kind}
            disabled={readOnly || fixedKind}
            {...invalidProps(error, 'kind')}
            onChange={(e) => {
              const kind = e.target.value as RuleKind;
              // A log rule counts lines: at least the threshold, unless told otherwise.
              set(kind === 'log_count' ? { kind, comparator: '>=' } : { kind });
            }}
          >
            {(Object.keys(KIND_TEXT) as RuleKind[]).map((k) => (
              <option key={k} value={k}>
                {KIND_TEXT[k]}
              </option>
            ))}
          </select>
        </label>
        <FieldMessage error={error} field="kind" />
      </div>
      <label className="inline">
        <input
          type="checkbox"
          checked={draft.enabled}
          disabled={readOnly}
          onChange={(e) => set({ enabled: e.target.checked })}
        />
        Enabled
      </label>
    </div>
  );
}

/** A threshold rule's series and levels: metric, matchers, comparator, warning, critical, recovery. */
export function ThresholdFields({
  draft,
  set,
  error,
  readOnly,
  builtin,
}: PartProps & { builtin: boolean }) {
  const global = typeof draft.otherParams.global === 'string' ? draft.otherParams.global : null;
  return (
    <>
      <div className="config-grid">
        <Field
          label="Metric"
          field="metric"
          error={error}
          required
          spellCheck={false}
          readOnly={readOnly || builtin}
          placeholder="cpu_usage_percent"
          value={draft.metric}
          onValue={(metric) => set({ metric })}
        />
        <div>
          <label>
            Comparator
            <select
              value={draft.comparator}
              disabled={readOnly}
              {...invalidProps(error, 'comparator')}
              onChange={(e) => set({ comparator: e.target.value as Comparator })}
            >
              {COMPARATORS.map((c) => (
                <option key={c} value={c}>
                  value {c} threshold
                </option>
              ))}
            </select>
          </label>
          <FieldMessage error={error} field="comparator" />
        </div>
      </div>
      <MatchersEditor
        matchers={draft.matchers}
        onChange={(matchers) => set({ matchers })}
        error={error}
        readOnly={readOnly || builtin}
      />
      <div className="config-grid">
        <Field
          label="Warning threshold"
          field="warning"
          error={error}
          type="number"
          step="any"
          readOnly={readOnly}
          value={draft.warning}
          onValue={(warning) => set({ warning })}
          hint={global ? `Empty: the global ${global} warning.` : undefined}
        />
        <Field
          label="Critical threshold"
          field="critical"
          error={error}
          type="number"
          step="any"
          readOnly={readOnly}
          value={draft.critical}
          onValue={(critical) => set({ critical })}
          hint={global ? `Empty: the global ${global} critical.` : undefined}
        />
        <Field
          label="Recovery (hysteresis)"
          field="recovery"
          error={error}
          type="number"
          step="any"
          readOnly={readOnly}
          value={draft.recovery}
          onValue={(recovery) => set({ recovery })}
          hint="A firing alert clears once the value is back past this. Empty: the lowest threshold."
        />
      </div>
    </>
  );
}

/** The fields a kind other than threshold takes: days for certificates, hours, flapping, failures. */
export function KindFields({
  draft,
  set,
  error,
  readOnly,
  builtin,
}: PartProps & { builtin: boolean }) {
  const fixed = readOnly || builtin;
  switch (draft.kind) {
    case 'cert_expiry':
      return (
        <div className="config-grid">
          <Field
            label="Warning (days left)"
            field="warning"
            error={error}
            type="number"
            min={0}
            step="any"
            readOnly={readOnly}
            value={draft.warning}
            onValue={(warning) => set({ warning })}
          />
          <Field
            label="Critical (days left)"
            field="critical"
            error={error}
            type="number"
            min={0}
            step="any"
            readOnly={readOnly}
            value={draft.critical}
            onValue={(critical) => set({ critical })}
          />
        </div>
      );
    case 'disk_forecast':
      return (
        <div className="config-grid">
          <Field
            label="Full within (hours)"
            field="params.hours"
            error={error}
            type="number"
            min={0}
            step="any"
            readOnly={fixed}
            value={draft.hours}
            onValue={(hours) => set({ hours })}
          />
        </div>
      );
    case 'host_unreachable':
      return (
        <div className="config-grid">
          <Field
            label="Failed probes before it fires"
            field="params.failures"
            error={error}
            type="number"
            min={1}
            step={1}
            readOnly={fixed}
            value={draft.failures}
            onValue={(failures) => set({ failures })}
          />
        </div>
      );
    case 'check':
      return (
        <label className="inline">
          <input
            type="checkbox"
            checked={draft.flapping}
            disabled={fixed}
            onChange={(e) => set({ flapping: e.target.checked })}
          />
          Fire on flapping (state changes) instead of hard non-OK states
        </label>
      );
    default:
      return null;
  }
}

/** When a condition fires and how long it keeps firing: `for` and `keep_firing_for`. */
export function TimingFields({ draft, set, error, readOnly }: PartProps) {
  return (
    <div className="config-grid">
      <Field
        label="For (seconds)"
        field="for_seconds"
        error={error}
        type="number"
        min={0}
        step={1}
        readOnly={readOnly}
        value={draft.forSeconds}
        onValue={(forSeconds) => set({ forSeconds })}
        hint="How long a breach lasts before it fires: no alert on a single spike."
      />
      <Field
        label="Keep firing for (seconds)"
        field="keep_firing_for_seconds"
        error={error}
        type="number"
        min={0}
        step={1}
        readOnly={readOnly}
        value={draft.keepFiringForSeconds}
        onValue={(keepFiringForSeconds) => set({ keepFiringForSeconds })}
        hint="How long it stays firing after it has recovered."
      />
    </div>
  );
}

const SCOPES: readonly [keyof ScopeDraft, string, string][] = [
  ['host_ids', 'Hosts', 'host ids'],
  ['tags', 'Tags', 'tags'],
  ['environments', 'Environments', 'environments'],
  ['templates', 'Templates', 'host templates'],
];

/** Which hosts the rule applies to: every non-empty list must name the host. */
export function ScopeFields({ draft, set, error, readOnly }: PartProps) {
  return (
    <fieldset className="config-fieldset">
      <legend>Scope</legend>
      <p className="muted">
        Comma-separated. Every list that is filled must name the host; all empty: every host.
      </p>
      <div className="config-grid">
        {SCOPES.map(([key, label, what]) => (
          <Field
            key={key}
            label={label}
            field={`scope.${key}`}
            error={error}
            readOnly={readOnly}
            spellCheck={false}
            placeholder={`Any (${what})`}
            value={draft.scope[key]}
            onValue={(v) => set({ scope: { ...draft.scope, [key]: v } })}
          />
        ))}
      </div>
    </fieldset>
  );
}
