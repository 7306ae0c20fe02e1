import { useMemo } from 'react';
import { Link, setQueryParam, useLocation } from '../../app/router';
import { useCan } from '../../app/session';
import { ErrorView } from '../../ui/ErrorView';
import { Loading, Page } from '../../ui/Page';
import { shortValue, type Json } from './json';
import { editorPath, KINDS, type ScreenId } from './kinds';
import { useObjects, type ConfigObject } from './queries';
import './config.css';

/** The one property a list shows of each object, by screen. */
const SUMMARY: Record<ScreenId, { key: string; label: string }> = {
  'host-templates': { key: 'check_command', label: 'Check command' },
  'service-templates': { key: 'check_command', label: 'Check command' },
  services: { key: 'check_command', label: 'Check command' },
  commands: { key: 'command', label: 'Command line' },
  'host-groups': { key: 'display_name', label: 'Display name' },
};

/** Whether an object matches every word of a search. */
function matches(o: ConfigObject, words: readonly string[]): boolean {
  const text = [
    o.object_name,
    o.host ?? '',
    ...o.imports,
    ...Object.values(o.properties).map((v) => shortValue(v as Json)),
  ]
    .join(' ')
    .toLowerCase();
  return words.every((w) => text.includes(w));
}

/**
 * A configuration list (`/config/<screen>`): every object of the kind with its imports and main
 * property, filtered by a search kept in the address (`?q=`). With `config:write`, a button
 * creates one; each name opens its editor.
 */
export function ConfigListScreen({ screen }: { screen: ScreenId }) {
  const info = KINDS[screen];
  const can = useCan();
  const { query } = useLocation();
  const q = query.get('q') ?? '';
  const list = useObjects(screen);
  const shown = useMemo(() => {
    const words = q.toLowerCase().split(/\s+/).filter(Boolean);
    return (list.data ?? []).filter((o) => matches(o, words));
  }, [list.data, q]);
  const summary = SUMMARY[screen];
  const services = screen === 'services';
  const columns = 3 + (services ? 1 : 0) + (info.imports ? 1 : 0);

  return (
    <Page
      title={info.title}
      subtitle="Changes take effect at the next deploy."
      actions={
        can('config:write') && (
          <Link to={`/config/${screen}/new`} className="config-button">
            Create {info.one}
          </Link>
        )
      }
    >
      <div className="row config-search">
        <label>
          Search
          <input
            type="search"
            value={q}
            placeholder="Name, import or property"
            onChange={(e) => setQueryParam('q', e.target.value)}
          />
        </label>
      </div>
      {list.error ? (
        <ErrorView error={list.error} onRetry={() => void list.refetch()} />
      ) : !list.data ? (
        <Loading height={240} />
      ) : (
        <div className="table-wrap" tabIndex={0} role="region" aria-label={`${info.title} table`}>
          <table aria-label={info.title}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                {services && <th scope="col">Host</th>}
                {info.imports && <th scope="col">Imports</th>}
                <th scope="col">{summary.label}</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {shown.length === 0 && (
                <tr>
                  <td colSpan={columns} className="muted">
                    {list.data.length === 0 ? `No ${info.one} yet.` : 'None matches.'}
                  </td>
                </tr>
              )}
              {shown.map((o) => (
                <tr key={`${o.host ?? ''}/${o.object_name}`}>
                  <th scope="row">
                    <Link to={editorPath(screen, o.object_name, o.host)}>{o.object_name}</Link>
                    {screen === 'commands' && o.object_type === 'template' && (
                      <span className="muted small"> (template)</span>
                    )}
                  </th>
                  {services && <td>{o.host ?? '—'}</td>}
                  {info.imports && (
                    <td>{o.imports.length ? <code>{o.imports.join(', ')}</code> : '—'}</td>
                  )}
                  <td>
                    <code>{shortValue(o.properties[summary.key] as Json) || '—'}</code>
                  </td>
                  <td>
                    {o.disabled ? (
                      <span className="badge status-disabled">disabled</span>
                    ) : (
                      'enabled'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
