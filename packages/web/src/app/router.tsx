import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

/** Where the console is: the path and its query parameters. */
export interface Location {
  path: string;
  query: URLSearchParams;
}

const read = (): Location => ({
  path: window.location.pathname,
  query: new URLSearchParams(window.location.search),
});

const LocationContext = createContext<Location>(read());

/** Goes to `to` (a path with an optional query) without reloading; `replace` keeps history short. */
export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.dispatchEvent(new Event('vigil:navigate'));
}

/** Provides the current location to the screens; follows the browser's back and forward. */
export function RouterProvider({ children }: { children: ReactNode }) {
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    window.addEventListener('popstate', update);
    window.addEventListener('vigil:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('vigil:navigate', update);
    };
  }, []);
  return <LocationContext.Provider value={loc}>{children}</LocationContext.Provider>;
}

/** The current location. */
export const useLocation = (): Location => useContext(LocationContext);

/**
 * Matches `path` against a pattern with `:name` segments; returns the parameters (decoded) or
 * null.
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.replace(/\/+$/, '').split('/');
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) {
      try {
        out[p[i]!.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (p[i] !== s[i]) return null;
  }
  return out;
}

/** Sets one query parameter of the current location (removed when `value` is empty). */
export function setQueryParam(name: string, value: string | null): void {
  const q = new URLSearchParams(window.location.search);
  if (value === null || value === '') q.delete(name);
  else q.set(name, value);
  const s = q.toString();
  navigate(`${window.location.pathname}${s ? `?${s}` : ''}`, { replace: true });
}

/** A link within the console: a real `<a href>` (open in new tab works) that navigates in place. */
export function Link(props: {
  to: string;
  children: ReactNode;
  className?: string;
  'aria-current'?: 'page' | undefined;
  'aria-label'?: string;
}) {
  const { to, children, ...rest } = props;
  return (
    <a
      href={to}
      {...rest}
      onClick={(e) => {
        if (
          e.defaultPrevented ||
          e.button !== 0 ||
          e.metaKey ||
          e.ctrlKey ||
          e.shiftKey ||
          e.altKey
        )
          return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}
