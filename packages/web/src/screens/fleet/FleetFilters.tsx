import { useEffect, useRef } from 'react';
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
  const search = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // `/` jumps to the name filter, as in many consoles, unless a field has the keyboard.
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      e.preventDefault();
      search.current?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="fleet-filters" role="search" aria-label="Filter hosts">
      <label className="fleet-search">
        Name
        <input
          ref={search}
          type="search"
          aria-keyshortcuts="/"
          placeholder="Filter by name — press /"
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
