import { useEffect, type ReactNode } from 'react';

/**
 * A screen's frame: its heading (also the document title) and actions on the right. Every
 * screen has exactly one `<h1>`.
 */
export function Page(props: {
  title: string;
  actions?: ReactNode;
  children: ReactNode;
  subtitle?: ReactNode;
}) {
  useEffect(() => {
    document.title = `${props.title} · Vigil`;
  }, [props.title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <div>
          <h1 id="page-title">{props.title}</h1>
          {props.subtitle && <p className="muted">{props.subtitle}</p>}
        </div>
        {props.actions && <div className="page-actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

/** A placeholder of fixed height while data loads, so nothing jumps when it arrives. */
export function Loading({ label = 'Loading…', height = 120 }: { label?: string; height?: number }) {
  return (
    <div className="loading" style={{ minHeight: height }} role="status">
      {label}
    </div>
  );
}

/** Tabs that are links to `?tab=…`: keyboard- and bookmark-friendly. */
export function Tabs<T extends string>(props: {
  label: string;
  tabs: readonly { id: T; label: string }[];
  current: T;
  onChange: (t: T) => void;
}) {
  return (
    <div className="tabs" role="tablist" aria-label={props.label}>
      {props.tabs.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={t.id === props.current}
          tabIndex={t.id === props.current ? 0 : -1}
          onClick={() => props.onChange(t.id)}
          onKeyDown={(e) => {
            const i = props.tabs.findIndex((x) => x.id === props.current);
            const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
            if (!step) return;
            e.preventDefault();
            const next = props.tabs[(i + step + props.tabs.length) % props.tabs.length]!;
            props.onChange(next.id);
            document.getElementById(`tab-${next.id}`)?.focus();
          }}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

/** A status word with its colour: `online`, `offline`, `pending`, `OK`, `CRITICAL`… */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge status-${status.toLowerCase()}`}>{status}</span>;
}
