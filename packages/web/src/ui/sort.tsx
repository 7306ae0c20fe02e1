import { useMemo, useState } from 'react';

/** A sort order: a column key and its direction. */
export interface Sort<K extends string> {
  key: K;
  dir: 'asc' | 'desc';
}

/** Compares two cell values: nulls last, numbers numerically, text naturally. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/**
 * Sorts `rows` by the chosen column (`value` reads a column of a row); clicking a header
 * toggles. Returns the sorted rows, the order and the header's props.
 */
export function useSorted<T, K extends string>(
  rows: readonly T[],
  value: (row: T, key: K) => unknown,
  initial: Sort<K>,
) {
  const [sort, setSort] = useState<Sort<K>>(initial);
  const sorted = useMemo(() => {
    const out = [...rows];
    const sign = sort.dir === 'asc' ? 1 : -1;
    out.sort((a, b) => {
      const va = value(a, sort.key);
      const vb = value(b, sort.key);
      // Nulls stay last in either direction.
      if (va === null || va === undefined) return vb === null || vb === undefined ? 0 : 1;
      if (vb === null || vb === undefined) return -1;
      return sign * compareValues(va, vb);
    });
    return out;
    // `value` is a stable reader of the row type: the rows and the order decide the result.
  }, [rows, sort]);
  const toggle = (key: K) =>
    setSort((s) =>
      s.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' },
    );
  return { sorted, sort, toggle };
}

/**
 * A sortable column header: a button inside the `<th>` (or, in a grid of `div`s such as a
 * virtualised list, a `div` with the `columnheader` role), with `aria-sort` telling screen
 * readers the order.
 */
export function SortHeader<K extends string>(props: {
  label: string;
  column: K;
  sort: Sort<K>;
  onSort: (k: K) => void;
  className?: string;
  element?: 'th' | 'div';
}) {
  const active = props.sort.key === props.column;
  const ariaSort = active ? (props.sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  const button = (
    <button type="button" className="sort" onClick={() => props.onSort(props.column)}>
      {props.label}
      <span aria-hidden="true" className="sort-mark">
        {active ? (props.sort.dir === 'asc' ? '▲' : '▼') : ''}
      </span>
    </button>
  );
  if (props.element === 'div')
    return (
      <div role="columnheader" className={props.className} aria-sort={ariaSort}>
        {button}
      </div>
    );
  return (
    <th scope="col" className={props.className} aria-sort={ariaSort}>
      {button}
    </th>
  );
}
