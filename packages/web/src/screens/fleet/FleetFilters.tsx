import { setQueryParam } from '../../app/router';
import type { FleetFilter } from './filter';

/** The fleet's filter bar: name text, status and OS; each kept in the URL (bookmarkable). */
export function FleetFilters(props: {
  filter: FleetFilter;
  counts: Record<string, number>;
  total: number;
  osNames: readonly string[];
}) {
  const { filter, counts } = props;
  return (
    <div className="fleet-filters" role="search" aria-label="Filter hosts">
      <label className="fleet-search">
        Name
        <input
          type="search"
          placeholder="Filter by name"
          value={filter.q}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setQueryParam('q', e.target.value)}
        />
      </label>
      <label>
        Status
        <select value={filter.status} onChange={(e) => setQueryParam('status', e.target.value)}>
          <option value="">Any ({props.total})</option>
          {(['online', 'offline', 'pending', 'unknown'] as const).map((s) => (
            <option key={s} value={s}>
              {s[0]!.toUpperCase() + s.slice(1)} ({counts[s] ?? 0})
            </option>
          ))}
        </select>
      </label>
      <label>
        Operating system
        <select value={filter.os} onChange={(e) => setQueryParam('os', e.target.value)}>
          <option value="">Any</option>
          {props.osNames.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
