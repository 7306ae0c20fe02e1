import { Fragment, memo, useState, type Ref } from 'react';
import { Link } from '../../app/router';
import { Highlight } from './Highlight';
import type { LogEntry } from './queries';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A log time as local `YYYY-MM-DD HH:mm:ss.SSS`: compact, and it sorts as it reads. */
export function logTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A level as a coloured word. */
export function LevelBadge({ level }: { level: string }) {
  return <span className={`badge log-level level-${level}`}>{level}</span>;
}

/**
 * One entry: its row, and when expanded a second row with every field. Memoised: a live line
 * arriving renders its own row only.
 */
const LogRow = memo(function LogRow(props: {
  entry: LogEntry;
  pattern: RegExp | null;
  hideHost: boolean;
  fresh: boolean;
  hostNames: ReadonlyMap<string, string>;
}) {
  const { entry: e, pattern } = props;
  const [open, setOpen] = useState(false);
  // The live tail's lines name their host by id only.
  const host = e.host_name ?? (e.host_id && props.hostNames.get(e.host_id)) ?? e.host_id ?? '—';
  const fields = Object.entries(e.fields ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const detailsId = `log-${e.id}-fields`;
  return (
    <Fragment>
      <tr className={props.fresh ? 'log-row log-fresh' : 'log-row'}>
        <td className="log-time">
          <button
            type="button"
            className="log-expand"
            aria-expanded={open}
            aria-controls={open ? detailsId : undefined}
            aria-label={`Fields of the entry at ${logTime(e.timestamp)}`}
            onClick={() => setOpen(!open)}
          >
            {open ? '▾' : '▸'}
          </button>
          <time dateTime={e.timestamp}>{logTime(e.timestamp)}</time>
        </td>
        {!props.hideHost && <td className="log-host">{host}</td>}
        <td className="log-source">
          <span className="muted">{e.source}</span> {e.source_name}
        </td>
        <td>
          <LevelBadge level={e.level} />
        </td>
        <td className="log-message">
          <span className="log-meta-narrow muted small">
            {!props.hideHost && `${host} · `}
            {e.source} {e.source_name}
          </span>
          <Highlight text={e.message} pattern={pattern} />
        </td>
      </tr>
      {open && (
        <tr className="log-details" id={detailsId}>
          <td colSpan={props.hideHost ? 4 : 5}>
            <dl className="log-fields">
              <dt>Time</dt>
              <dd>{e.timestamp}</dd>
              {e.host_id && (
                <>
                  <dt>Host</dt>
                  <dd>
                    <Link to={`/hosts/${encodeURIComponent(e.host_id)}`}>{host}</Link>
                  </dd>
                </>
              )}
              <dt>Agent</dt>
              <dd>{e.agent_id ?? 'none (syslog)'}</dd>
              <dt>Source</dt>
              <dd>
                {e.source}: {e.source_name}
              </dd>
              <dt>Entry id</dt>
              <dd>
                <code>{e.id}</code>
              </dd>
              {fields.map(([k, v]) => (
                <Fragment key={k}>
                  <dt>
                    <code>{k}</code>
                  </dt>
                  <dd>
                    <code>{v}</code>
                  </dd>
                </Fragment>
              ))}
            </dl>
            <pre className="log-full">{e.message}</pre>
          </td>
        </tr>
      )}
    </Fragment>
  );
});

/**
 * Log entries, newest first: time (a toggle shows every field), host, source, level and the
 * message with the searched words marked. Lines that arrived live come first, in their own
 * section (`liveRef` measures it, so that the reader's place can be kept).
 */
export function LogTable(props: {
  live: readonly LogEntry[];
  entries: readonly LogEntry[];
  pattern: RegExp | null;
  hideHost: boolean;
  /** Host names by id, for lines that carry only the id. */
  hostNames: ReadonlyMap<string, string>;
  liveRef?: Ref<HTMLTableSectionElement>;
}) {
  return (
    <div className="table-wrap log-table-wrap">
      <table className="log-table" aria-label="Log entries">
        <thead>
          <tr>
            <th scope="col">Time</th>
            {!props.hideHost && <th scope="col">Host</th>}
            <th scope="col">Source</th>
            <th scope="col">Level</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody ref={props.liveRef} className="log-live-rows">
          {props.live.map((e) => (
            <LogRow
              key={e.id}
              entry={e}
              pattern={props.pattern}
              hideHost={props.hideHost}
              hostNames={props.hostNames}
              fresh
            />
          ))}
        </tbody>
        <tbody>
          {props.entries.map((e) => (
            <LogRow
              key={e.id}
              entry={e}
              pattern={props.pattern}
              hideHost={props.hideHost}
              hostNames={props.hostNames}
              fresh={false}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}
