import { Link } from '../../app/router';
import { shortValue, type Json } from './json';

/** What the preview shows: resolved values and, for each, the template it comes from. */
export interface Resolution {
  properties: Record<string, unknown>;
  vars: Record<string, unknown>;
  origins: {
    properties: Record<string, string | null | undefined>;
    vars: Record<string, string | null | undefined>;
  };
}

function Origin({ from, href }: { from: string | null | undefined; href?: (t: string) => string }) {
  if (!from) return <span className="origin-own">own</span>;
  return (
    <span className="origin-template">
      from{' '}
      {href ? (
        <Link to={href(from)}>
          <code>{from}</code>
        </Link>
      ) : (
        <code>{from}</code>
      )}
    </span>
  );
}

function Rows(props: {
  caption: string;
  values: Record<string, unknown>;
  origins: Record<string, string | null | undefined>;
  href?: (t: string) => string;
}) {
  const keys = Object.keys(props.values).sort();
  return (
    <div
      className="table-wrap preview-table"
      tabIndex={0}
      role="region"
      aria-label={`${props.caption} table`}
    >
      <table aria-label={props.caption}>
        <caption className="visually-hidden">{props.caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
            <th scope="col">From</th>
          </tr>
        </thead>
        <tbody>
          {keys.length === 0 ? (
            <tr>
              <td colSpan={3} className="muted">
                None
              </td>
            </tr>
          ) : (
            keys.map((k) => (
              <tr key={k}>
                <th scope="row">
                  <code>{k}</code>
                </th>
                <td>
                  <code>{shortValue(props.values[k] as Json)}</code>
                </td>
                <td>
                  <Origin from={props.origins[k]} href={props.href} />
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/**
 * The inheritance preview: an object's resolved properties and custom variables, each with the
 * template it comes from ("own" for the object's own values). `templateHref` links a template's
 * name to its editor.
 */
export function ResolvedPreview(props: {
  resolution: Resolution;
  templateHref?: (template: string) => string;
  vars?: boolean;
}) {
  const r = props.resolution;
  return (
    <div className="stack">
      <h3 className="preview-title">Properties</h3>
      <Rows
        caption="Resolved properties"
        values={r.properties}
        origins={r.origins.properties}
        href={props.templateHref}
      />
      {props.vars !== false && (
        <>
          <h3 className="preview-title">Custom variables</h3>
          <Rows
            caption="Resolved variables"
            values={r.vars}
            origins={r.origins.vars}
            href={props.templateHref}
          />
        </>
      )}
    </div>
  );
}
