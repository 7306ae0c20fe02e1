import { useState, type ReactNode } from 'react';
import { Link, useLocation } from './router';
import { NAV } from './nav';
import { useSession } from './session';
import { useStreamStatus } from './stream';
import { useTheme, type ThemeChoice } from './theme';

const STREAM_TEXT = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  off: 'Not live',
} as const;

/** The console's frame: navigation, the live stream's state, theme, and the user's menu. */
export function Shell({ children }: { children: ReactNode }) {
  const { me, can, logout } = useSession();
  const loc = useLocation();
  const status = useStreamStatus();
  const [theme, setTheme] = useTheme();
  const [menuOpen, setMenuOpen] = useState(false);
  const entries = NAV.filter((e) => can(e.permission));
  const groups = [...new Set(entries.map((e) => e.group))];
  const within = (path: string) =>
    path === '/'
      ? loc.path === '/' || loc.path.startsWith('/hosts/')
      : loc.path === path || loc.path.startsWith(`${path}/`);
  // The entry the location lies deepest in: `/alerts/rules/x` is Alert rules, not Alerts.
  const currentPath = entries
    .filter((e) => within(e.path))
    .sort((a, b) => b.path.length - a.path.length)[0]?.path;
  const current = (path: string) => path === currentPath;

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="icon menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          aria-label="Menu"
          onClick={() => setMenuOpen((o) => !o)}
        >
          ☰
        </button>
        <Link to="/" className="brand">
          Vigil
        </Link>
        <span className={`stream-state ${status}`} role="status" aria-live="polite">
          <span aria-hidden="true" className="dot" /> {STREAM_TEXT[status]}
        </span>
        <div className="topbar-right">
          <label className="theme-pick">
            <span className="visually-hidden">Theme</span>
            <select
              value={theme}
              title="Theme"
              onChange={(e) => setTheme(e.target.value as ThemeChoice)}
            >
              <option value="system">◐ System</option>
              <option value="light">☀ Light</option>
              <option value="dark">☾ Dark</option>
            </select>
          </label>
          <Link to="/profile" className="user" aria-label={`Profile of ${me.username}`}>
            {me.username}
          </Link>
          <button type="button" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="nav" className={menuOpen ? 'sidenav open' : 'sidenav'} aria-label="Main">
        {groups.map((g) => (
          <div key={g} className="nav-group">
            <h2 className="nav-title">{g}</h2>
            <ul>
              {entries
                .filter((e) => e.group === g)
                .map((e) => (
                  <li key={e.path}>
                    <Link to={e.path} aria-current={current(e.path) ? 'page' : undefined}>
                      {e.label}
                    </Link>
                  </li>
                ))}
            </ul>
          </div>
        ))}
      </nav>
      <main id="main" tabIndex={-1} onClick={() => setMenuOpen(false)}>
        {children}
      </main>
    </div>
  );
}
