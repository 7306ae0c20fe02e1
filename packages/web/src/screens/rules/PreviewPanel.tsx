import { ErrorView } from '../../ui/ErrorView';
import { StatusBadge } from '../../ui/Page';
import type { Preview } from './queries';

/** A series' labels in one line: `mount="/", fstype="ext4"`; empty for none. */
const labelsText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');

/**
 * What a preview found: the hosts that breach the rule now, with the value and the severity,
 * from each host's latest stored data. Its failure is shown here unless it named a field (the
 * form shows that one on the field).
 */
export function PreviewPanel(props: {
  preview: Preview | undefined;
  error: unknown;
  showError: boolean;
}) {
  const { preview, error, showError } = props;
  if (!preview && !(error && showError)) return null;
  return (
    <section className="card rule-preview" aria-labelledby="preview-title" aria-live="polite">
      <h2 id="preview-title">Preview</h2>
      {error && showError ? (
        <ErrorView error={error} />
      ) : preview ? (
        <>
          <p className="preview-summary">
            {preview.items.length === 0
              ? `No host would fire now (${preview.evaluated_hosts} evaluated).`
              : `${preview.items.length} would fire now, of ${preview.evaluated_hosts} hosts evaluated.`}
          </p>
          {preview.items.length > 0 && (
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Preview table">
              <table aria-label="Hosts that would fire">
                <thead>
                  <tr>
                    <th scope="col">Host</th>
                    <th scope="col">Series labels</th>
                    <th scope="col" className="num">
                      Value
                    </th>
                    <th scope="col">Severity</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.items.map((p, i) => (
                    <tr key={`${p.host_id}-${i}`}>
                      <td>{p.host_name}</td>
                      <td>
                        <code>{labelsText(p.labels) || '—'}</code>
                      </td>
                      <td className="num">{Number(p.value.toFixed(3))}</td>
                      <td>
                        <StatusBadge status={p.severity} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
