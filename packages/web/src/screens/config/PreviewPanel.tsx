import { ErrorView } from '../../ui/ErrorView';
import { Loading } from '../../ui/Page';
import { templatePath, type ObjectKind } from './kinds';
import { usePreview, type Draft, type Resolved } from './queries';
import { ResolvedPreview } from './ResolvedPreview';
import { ServicesList } from './ServicesList';

/**
 * The inheritance preview beside an editor: what the draft resolves to as it is edited (asked
 * again shortly after each change), with the template each value comes from, and a host's
 * services. A draft the server refuses shows why, above the last good preview.
 */
export function PreviewPanel(props: { kind: ObjectKind; draft: Draft; services?: boolean }) {
  const preview = usePreview(props.kind, props.draft);
  return (
    <section className="card preview-box" aria-labelledby="preview-title">
      <h2 id="preview-title">Inheritance preview</h2>
      <p className="muted small preview-state" aria-live="polite">
        {preview.isFetching ? 'Updating…' : 'Resolved values, and where each comes from.'}
      </p>
      {preview.error && <ErrorView error={preview.error} onRetry={() => void preview.refetch()} />}
      {preview.data ? (
        <PreviewBody kind={props.kind} data={preview.data} services={props.services} />
      ) : (
        !preview.error && <Loading height={200} />
      )}
    </section>
  );
}

function PreviewBody(props: { kind: ObjectKind; data: Resolved; services?: boolean }) {
  return (
    <div className="stack">
      <ResolvedPreview
        resolution={props.data}
        vars={props.kind !== 'hostgroup'}
        templateHref={(t) => templatePath(props.kind, t)}
      />
      {props.services && <ServicesList services={props.data.services} />}
    </div>
  );
}
