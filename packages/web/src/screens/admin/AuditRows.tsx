import { Fragment, useState } from 'react';
import type { Answer } from '../../api/types';
import { dateTime } from '../../ui/format';
import { StatusBadge } from '../../ui/Page';

/** An audit event as `GET /api/v1/audit/events` lists it. */
export type AuditEvent = Answer<'/api/v1/audit/events'>['items'][number];

/** Whether an event records a refusal or failure (`auth.login_failed`…) rather than a change. */
function failed(e: AuditEvent): boolean {
  return /_failed$|_denied$|\.refused$/.test(e.action);
}

/**
 * The table of audit events: time, actor, action, object, outcome and correlation id; each
 * event's full record (detail, source address, redactions) expands below its row as JSON.
 */
export function AuditRows({ items }: { items: AuditEvent[] }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  return (
    <div className="table-wrap">
      <table aria-label="Audit events" className="wide">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Object</th>
            <th scope="col">Outcome</th>
            <th scope="col">Correlation id</th>
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.length === 0 && (
            <tr>
              <td colSpan={7} className="muted empty">
                No event matches the filters.
              </td>
            </tr>
          )}
          {items.map((e) => (
            <Fragment key={e.id}>
              <tr>
                <td className="nowrap">{dateTime(e.occurred_at)}</td>
                <td>
                  {e.actor_label ?? e.actor_id ?? '—'}
                  <div className="muted small">
                    {e.actor_type.replace('_', ' ')}
                    {e.actor_client ? ` via ${e.actor_client}` : ''}
                  </div>
                </td>
                <td className="nowrap">
                  <code>{e.action}</code>
                </td>
                <td>
                  {e.resource_type ?? '—'}
                  {e.resource_id && (
                    <div className="muted small">
                      <code>{e.resource_id}</code>
                    </div>
                  )}
                </td>
                <td>
                  <StatusBadge status={failed(e) ? 'failed' : 'ok'} />
                </td>
                <td className="small">
                  <code>{e.correlation_id ?? '—'}</code>
                </td>
                <td className="row-actions">
                  <button
                    type="button"
                    className="small-button"
                    aria-expanded={open.has(e.id)}
                    aria-controls={`audit-${e.id}`}
                    onClick={() => toggle(e.id)}
                  >
                    {open.has(e.id) ? 'Hide' : 'Details'}
                    <span className="visually-hidden"> of {e.action}</span>
                  </button>
                </td>
              </tr>
              {open.has(e.id) && (
                <tr id={`audit-${e.id}`} className="audit-detail">
                  <td colSpan={7}>
                    <pre>
                      {JSON.stringify(
                        {
                          source_address: e.source_address,
                          detail: e.detail,
                          redactions: e.redactions,
                          id: e.id,
                          actor_id: e.actor_id,
                        },
                        null,
                        2,
                      )}
                    </pre>
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}
