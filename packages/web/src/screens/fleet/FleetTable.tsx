import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import { SortHeader, type Sort } from '../../ui/sort';
import { FleetRow } from './FleetRow';
import type { FleetColumn } from './filter';
import type { HostOverview } from './live';

const COMPACT = '(max-width: 760px)';
const subscribeCompact = (cb: () => void) => {
  const mq = window.matchMedia(COMPACT);
  mq.addEventListener('change', cb);
  return () => mq.removeEventListener('change', cb);
};
/** Whether the list is drawn as cards (phones): rows are taller then. */
const useCompact = () =>
  useSyncExternalStore(subscribeCompact, () => window.matchMedia(COMPACT).matches);

/**
 * The fleet as a table of fixed-height rows of which only those on screen (and a few around)
 * exist in the page: a thousand hosts scroll and filter as fast as ten. The page itself scrolls.
 */
export function FleetTable(props: {
  hosts: readonly HostOverview[];
  sort: Sort<FleetColumn>;
  onSort: (c: FleetColumn) => void;
  /** Open alerts per host id (count and worst severity), when the caller may read alerts. */
  alerts?: ReadonlyMap<string, { count: number; severity: string | null }>;
}) {
  const compact = useCompact();
  const rowHeight = compact ? 124 : 56;
  const body = useRef<HTMLDivElement>(null);
  const [margin, setMargin] = useState(0);
  // Where the rows begin on the page: what is above them may change height (the window's
  // width wraps the filters), so it is measured after every render; a change redraws.
  useLayoutEffect(() => {
    const el = body.current;
    if (!el) return;
    const top = el.getBoundingClientRect().top + window.scrollY;
    if (Math.abs(top - margin) > 0.5) setMargin(top);
  });
  const v = useWindowVirtualizer({
    count: props.hosts.length,
    estimateSize: () => rowHeight,
    overscan: 6,
    scrollMargin: margin,
  });
  const h = (label: string, column: FleetColumn, className?: string) => (
    <SortHeader
      element="div"
      label={label}
      column={column}
      sort={props.sort}
      onSort={props.onSort}
      className={className}
    />
  );
  return (
    <div
      role="table"
      aria-label="Hosts"
      aria-rowcount={props.hosts.length + 1}
      className="fleet-table"
    >
      <div role="rowgroup" className="fleet-head">
        <div role="row" aria-rowindex={1} className="fleet-row">
          {h('Status', 'status')}
          <div
            role="columnheader"
            className="fleet-name-head"
            aria-sort={
              props.sort.key === 'name' || props.sort.key === 'os'
                ? props.sort.dir === 'asc'
                  ? 'ascending'
                  : 'descending'
                : 'none'
            }
          >
            <button type="button" className="sort" onClick={() => props.onSort('name')}>
              Name
              <span aria-hidden="true" className="sort-mark">
                {props.sort.key === 'name' ? (props.sort.dir === 'asc' ? '▲' : '▼') : ''}
              </span>
            </button>
            <span aria-hidden="true" className="muted">
              ·
            </span>
            <button type="button" className="sort" onClick={() => props.onSort('os')}>
              OS
              <span aria-hidden="true" className="sort-mark">
                {props.sort.key === 'os' ? (props.sort.dir === 'asc' ? '▲' : '▼') : ''}
              </span>
            </button>
          </div>
          {h('Uptime', 'uptime')}
          {h('CPU', 'cpu')}
          {h('Memory', 'memory')}
          {h('Disk', 'disk')}
          {h('Network', 'network')}
          {h('Checks', 'checks')}
        </div>
      </div>
      <div role="rowgroup" ref={body} className="fleet-body" style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((item) => (
          <FleetRow
            key={props.hosts[item.index]!.id}
            host={props.hosts[item.index]!}
            index={item.index}
            top={item.start - v.options.scrollMargin}
            height={rowHeight}
            alerts={props.alerts?.get(props.hosts[item.index]!.id)?.count}
            alertSeverity={props.alerts?.get(props.hosts[item.index]!.id)?.severity}
          />
        ))}
      </div>
    </div>
  );
}
