import { editorPath, type ScreenId } from '../config/kinds';
import { Link } from '../../app/router';
import type { DeploymentDiff } from './queries';

type Named = DeploymentDiff['added'][number];

/** The configuration screen that edits an object named in a diff, or null for hosts. */
function screenOf(o: Named): ScreenId | null {
  if (o.kind === 'command') return 'commands';
  if (o.kind === 'hostgroup') return 'host-groups';
  if (o.kind === 'host') return o.object_type === 'template' ? 'host-templates' : null;
  return o.object_type === 'template' && !o.host ? 'service-templates' : 'services';
}

const KIND_TEXT: Record<Named['kind'], string> = {
  host: 'host',
  service: 'service',
  command: 'command',
  hostgroup: 'host group',
};

/** The path of a host's page by its name, where the fleet knows it. */
export type HostPath = (name: string) => string | undefined;

function ObjectName({ o, gone, hostPath }: { o: Named; gone?: boolean; hostPath?: HostPath }) {
  const screen = screenOf(o);
  const path = gone
    ? undefined
    : screen
      ? editorPath(screen, o.name, o.host)
      : o.kind === 'host'
        ? hostPath?.(o.name)
        : undefined;
  const what = `${o.object_type === 'template' ? `${KIND_TEXT[o.kind]} template` : KIND_TEXT[o.kind]}`;
  const name = <code>{o.name}</code>;
  return (
    <>
      <span className="muted">{what}</span> {path ? <Link to={path}>{name}</Link> : name}
      {o.host && <span className="muted"> on {o.host}</span>}
    </>
  );
}

function Section(props: {
  title: string;
  tone: string;
  items: readonly (Named & { keys?: string[] })[];
  gone?: boolean;
  hostPath?: HostPath;
}) {
  return (
    <section className="diff-section" aria-label={props.title}>
      <h3>
        {props.title} <span className={`badge ${props.tone}`}>{props.items.length}</span>
      </h3>
      {props.items.length === 0 ? (
        <p className="muted small">None.</p>
      ) : (
        <ul className="diff-list">
          {props.items.map((o) => (
            <li key={`${o.kind}/${o.object_type}/${o.host ?? ''}/${o.name}`}>
              <ObjectName o={o} gone={props.gone} hostPath={props.hostPath} />
              {o.keys && o.keys.length > 0 && (
                <div className="small">
                  changed:{' '}
                  {o.keys.map((k, i) => (
                    <span key={k}>
                      {i > 0 && ', '}
                      <code>{k}</code>
                    </span>
                  ))}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * A diff between two configurations: objects added, removed and changed (with their keys), each
 * linked to its editor (a host to its page, through `hostPath`).
 */
export function DiffView({ diff, hostPath }: { diff: DeploymentDiff; hostPath?: HostPath }) {
  return (
    <div className="diff-grid">
      <Section title="Added" tone="status-ok" items={diff.added} hostPath={hostPath} />
      <Section title="Changed" tone="status-warning" items={diff.changed} hostPath={hostPath} />
      <Section title="Removed" tone="status-critical" items={diff.removed} gone />
    </div>
  );
}

/** Whether a diff changes anything. */
export const isEmptyDiff = (d: DeploymentDiff): boolean =>
  d.added.length + d.removed.length + d.changed.length === 0;
