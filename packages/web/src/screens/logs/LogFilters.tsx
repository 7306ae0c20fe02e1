import { useEffect, useId, useState } from 'react';
import { LevelChoices } from './LevelChoices';
import { parseTime, RANGE_LABELS, SOURCES, writeQuery, type LogQuery, type RangeId } from './query';

/** `Date` → the local `YYYY-MM-DDTHH:mm` a datetime-local input takes; empty for a bad time. */
function toLocalInput(time: string): string {
  const ms = parseTime(time);
  if (!Number.isFinite(ms)) return '';
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** A datetime-local input's value → ISO 8601 (empty when not a time). */
function fromLocalInput(text: string): string {
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '';
}

/**
 * The explorer's query: the search box and its filters (host, source, source name, levels, time
 * range, and an agent when the address names one). Lists and toggles apply at once; the texts apply with Enter (or **Search**), which also
 * runs the search again. Everything goes to the address, so a search can be bookmarked.
 */
export function LogFilters(props: {
  query: LogQuery;
  /** The hosts to choose from; absent when the explorer is fixed to one host. */
  hosts?: readonly { id: string; name: string }[];
  /** Runs the search again (a preset range then ends now). */
  onRun: () => void;
}) {
  const { query } = props;
  const id = useId();
  const [q, setQ] = useState(query.q);
  const [sourceName, setSourceName] = useState(query.sourceName);
  const [from, setFrom] = useState(toLocalInput(query.from));
  const [to, setTo] = useState(toLocalInput(query.to));
  const [error, setError] = useState<string | null>(null);
  // The address changed (back, a link): the texts follow it.
  useEffect(() => setQ(query.q), [query.q]);
  useEffect(() => setSourceName(query.sourceName), [query.sourceName]);
  useEffect(() => setFrom(toLocalInput(query.from)), [query.from]);
  useEffect(() => setTo(toLocalInput(query.to)), [query.to]);

  const submit = () => {
    const changes: Partial<LogQuery> = { q, sourceName };
    if (query.range === 'custom') {
      const f = fromLocalInput(from);
      const t = to ? fromLocalInput(to) : '';
      if (!f) return setError('Enter the start of the range.');
      if (t && Date.parse(f) >= Date.parse(t)) return setError('“From” must be before “To”.');
      changes.from = f;
      changes.to = t;
    }
    setError(null);
    writeQuery(changes);
    props.onRun();
  };

  return (
    <form
      className="log-filters"
      role="search"
      aria-label="Log search"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="log-search">
        <label className="log-search-box">
          Search
          <input
            type="search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
            placeholder='words, "a phrase", prefix*'
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <button type="submit" className="primary">
          Search
        </button>
      </div>
      <div className="log-filter-row">
        {props.hosts && (
          <label>
            Host
            <select value={query.host} onChange={(e) => writeQuery({ host: e.target.value })}>
              <option value="">Any host</option>
              {props.hosts.map((h) => (
                <option key={h.id} value={h.id}>
                  {h.name}
                </option>
              ))}
              {query.host && !props.hosts.some((h) => h.id === query.host) && (
                <option value={query.host}>{query.host}</option>
              )}
            </select>
          </label>
        )}
        <label>
          Source
          <select value={query.source} onChange={(e) => writeQuery({ source: e.target.value })}>
            <option value="">Any source</option>
            {SOURCES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Source name
          <input
            value={sourceName}
            onChange={(e) => setSourceName(e.target.value)}
            placeholder="nginx.service, /var/log/…"
            autoComplete="off"
          />
        </label>
        <label>
          Time range
          <select
            value={query.range}
            onChange={(e) => {
              const range = e.target.value as RangeId | 'custom';
              if (range !== 'custom') return writeQuery({ range });
              // A custom range starts as the last hour, for the operator to change.
              const now = Date.now();
              writeQuery({
                range,
                from: new Date(now - 3_600_000).toISOString(),
                to: new Date(now).toISOString(),
              });
            }}
          >
            {Object.entries(RANGE_LABELS).map(([r, label]) => (
              <option key={r} value={r}>
                {label}
              </option>
            ))}
          </select>
        </label>
        {query.range === 'custom' && (
          <>
            <label>
              From
              <input
                type="datetime-local"
                value={from}
                onChange={(e) => setFrom(e.target.value)}
                aria-describedby={error ? `${id}-err` : undefined}
              />
            </label>
            <label>
              To
              <input
                type="datetime-local"
                value={to}
                onChange={(e) => setTo(e.target.value)}
                aria-describedby={error ? `${id}-err` : undefined}
              />
            </label>
          </>
        )}
      </div>
      <LevelChoices level={query.level} />
      {query.agent && (
        <p className="log-filter-row">
          <button
            type="button"
            className="log-chip"
            onClick={() => writeQuery({ agent: '' })}
            aria-label={`Remove the filter on agent ${query.agent}`}
          >
            Agent {query.agent} ×
          </button>
        </p>
      )}
      {error && (
        <p id={`${id}-err`} className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
