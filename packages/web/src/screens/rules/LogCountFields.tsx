import { Link } from '../../app/router';
import { LEVELS, SOURCES } from '../logs/query';
import { windowSecondsOf } from './draft';
import { Field, FieldMessage, invalidProps } from './FieldMessage';
import { comparatorSign, filterText, logsLink, windowText } from './log-rule';
import type { Comparator } from './queries';
import type { PartProps } from './RuleFields';

/** The comparators of a count, in words, the default first. */
const COUNT_COMPARATORS: readonly [Comparator, string][] = [
  ['>=', 'at least the threshold (≥)'],
  ['>', 'more than the threshold (>)'],
  ['<', 'fewer than the threshold (<): lines that stop coming'],
  ['<=', 'at most the threshold (≤)'],
];

/**
 * A `log_count` rule's filter, window and thresholds: the full-text query, levels, source and
 * source name a line must match, the window in minutes, and the line counts that warn and are
 * critical, read back in a sentence (`Warns at ≥ 5 lines in 5 min`) with a link to the lines
 * in the logs explorer. The kind has no preview: a note says so.
 */
export function LogCountFields({ draft, set, error, readOnly }: PartProps) {
  const seconds = windowSecondsOf(draft);
  const span = typeof seconds === 'number' ? windowText(seconds) : '—';
  const filter = {
    q: draft.logQ,
    level: draft.logLevels,
    source: draft.logSource || undefined,
    source_name: draft.logSourceName.trim() || undefined,
    window_seconds: typeof seconds === 'number' ? seconds : 300,
  };
  const sign = comparatorSign(draft.comparator);
  const sentences = [
    draft.warning.trim() && `Warns at ${sign} ${draft.warning} lines in ${span}.`,
    draft.critical.trim() && `Critical at ${sign} ${draft.critical} lines in ${span}.`,
  ].filter(Boolean);
  const toggleLevel = (level: string, on: boolean) =>
    set({
      logLevels: LEVELS.filter((l) => (l === level ? on : draft.logLevels.includes(l))),
    });
  return (
    <>
      <fieldset className="config-fieldset">
        <legend>Log lines counted</legend>
        <div className="config-grid">
          <Field
            label="Query"
            field="params.q"
            error={error}
            spellCheck={false}
            readOnly={readOnly}
            placeholder='timeout "failed password" conn*'
            value={draft.logQ}
            onValue={(logQ) => set({ logQ })}
            hint='Words, "phrases" and prefix*; every one must match. Empty: every line.'
          />
          <div>
            <label>
              Source
              <select
                value={draft.logSource}
                disabled={readOnly}
                {...invalidProps(error, 'params.source')}
                onChange={(e) => set({ logSource: e.target.value })}
              >
                <option value="">Any source</option>
                {SOURCES.map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
              </select>
            </label>
            <FieldMessage error={error} field="params.source" />
          </div>
          <Field
            label="Source name"
            field="params.source_name"
            error={error}
            spellCheck={false}
            readOnly={readOnly}
            placeholder="Any (sshd, nginx.service, /var/log/app.log)"
            value={draft.logSourceName}
            onValue={(logSourceName) => set({ logSourceName })}
          />
          <Field
            label="Window (minutes)"
            field="params.window_seconds"
            error={error}
            type="number"
            inputMode="decimal"
            min={1}
            step="any"
            required
            readOnly={readOnly}
            value={draft.windowMinutes}
            onValue={(windowMinutes) => set({ windowMinutes })}
            hint="Lines are counted over this span before now: 1 to 1440 minutes (a day)."
          />
        </div>
        <fieldset
          className="log-levels"
          aria-describedby={invalidProps(error, 'params.level')['aria-describedby']}
        >
          <legend>Levels (none checked: every level)</legend>
          {LEVELS.map((l) => (
            <label key={l} className="inline">
              <input
                type="checkbox"
                checked={draft.logLevels.includes(l)}
                disabled={readOnly}
                onChange={(e) => toggleLevel(l, e.target.checked)}
              />
              {l}
            </label>
          ))}
          <FieldMessage error={error} field="params.level" />
        </fieldset>
        <p className="muted small">
          <Link to={logsLink(filter)}>Show the {filterText(filter)} in the logs explorer</Link>
        </p>
      </fieldset>
      <div className="config-grid">
        <div>
          <label>
            Fires when the count is
            <select
              value={draft.comparator}
              disabled={readOnly}
              {...invalidProps(error, 'comparator')}
              onChange={(e) => set({ comparator: e.target.value as Comparator })}
            >
              {COUNT_COMPARATORS.map(([c, text]) => (
                <option key={c} value={c}>
                  {text}
                </option>
              ))}
            </select>
          </label>
          <FieldMessage error={error} field="comparator" />
        </div>
        {(
          [
            ['warning', 'Warning at (lines)'],
            ['critical', 'Critical at (lines)'],
          ] as const
        ).map(([f, label]) => (
          <Field
            key={f}
            label={label}
            field={f}
            error={error}
            type="number"
            inputMode="numeric"
            min={0}
            step={1}
            readOnly={readOnly}
            value={draft[f]}
            onValue={(v) => set({ [f]: v })}
          />
        ))}
        <Field
          label="Recovery (lines)"
          field="recovery"
          error={error}
          type="number"
          inputMode="numeric"
          min={0}
          step={1}
          readOnly={readOnly}
          value={draft.recovery}
          onValue={(recovery) => set({ recovery })}
          hint="A firing alert clears once the count is back past this. Empty: the lowest threshold."
        />
      </div>
      <p className="log-rule-summary">
        {sentences.length > 0 ? sentences.join(' ') : 'Give a warning or a critical line count.'}
      </p>
      <p className="muted small">
        Preview covers threshold rules only; the link above lists the lines the filter matches.
      </p>
    </>
  );
}
