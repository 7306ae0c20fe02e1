import { setQueryParam } from '../../app/router';
import { SEVERITIES, STATES, type RangeId } from './queries';

/** The list's filters as the address holds them. */
export interface AlertFilterValues {
  state: string;
  severity: string;
  host: string;
  range: string;
}

const RANGE_LABELS: Record<RangeId, string> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

/**
 * The alert list's filters: state, severity, host and when it started. Each change goes to the
 * address, so that a filtered list can be bookmarked and shared.
 */
export function AlertFilters(props: {
  filter: AlertFilterValues;
  hosts: readonly { id: string; name: string }[];
}) {
  const { filter } = props;
  return (
    <div className="alert-filters" role="search" aria-label="Alert filters">
      <label>
        State
        <select value={filter.state} onChange={(e) => setQueryParam('state', e.target.value)}>
          <option value="">Open</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s[0]!.toUpperCase() + s.slice(1)}
            </option>
          ))}
          <option value="all">Any state</option>
        </select>
      </label>
      <label>
        Severity
        <select value={filter.severity} onChange={(e) => setQueryParam('severity', e.target.value)}>
          <option value="">Any severity</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {s[0]!.toUpperCase() + s.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Host
        <select value={filter.host} onChange={(e) => setQueryParam('host', e.target.value)}>
          <option value="">Any host</option>
          {props.hosts.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Started
        <select value={filter.range} onChange={(e) => setQueryParam('range', e.target.value)}>
          <option value="">Any time</option>
          {Object.entries(RANGE_LABELS).map(([id, label]) => (
            <option key={id} value={id}>
              {label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
