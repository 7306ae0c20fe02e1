import { Link } from '../../app/router';
import { editorPath } from './kinds';
import type { Resolved } from './queries';

/** A host's services: its own and those its templates give it, each with where it comes from. */
export function ServicesList({ services }: { services: Resolved['services'] }) {
  return (
    <>
      <h3 className="preview-title">Services</h3>
      <div
        className="table-wrap"
        tabIndex={0}
        role="region"
        aria-label="Services of the host table"
      >
        <table aria-label="Services of the host">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Imports</th>
              <th scope="col">From</th>
            </tr>
          </thead>
          <tbody>
            {services.length === 0 ? (
              <tr>
                <td colSpan={3} className="muted">
                  No services.
                </td>
              </tr>
            ) : (
              services.map(({ service: s, from }) => (
                <tr key={`${s.host ?? ''}/${s.object_name}`}>
                  <th scope="row">
                    <Link to={editorPath('services', s.object_name, s.host)}>{s.object_name}</Link>
                    {s.disabled && <span className="badge status-disabled">disabled</span>}
                  </th>
                  <td>{s.imports.length ? <code>{s.imports.join(', ')}</code> : '—'}</td>
                  <td>
                    {from ? (
                      <span className="origin-template">
                        from{' '}
                        <Link to={editorPath('host-templates', from)}>
                          <code>{from}</code>
                        </Link>
                      </span>
                    ) : (
                      <span className="origin-own">own</span>
                    )}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </>
  );
}
