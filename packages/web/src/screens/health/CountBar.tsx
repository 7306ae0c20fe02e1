/** One part of a `CountBar`: its word, its count and its colour (a `tone-<name>` class). */
export interface BarPart {
  key: string;
  label: string;
  count: number;
  tone: 'ok' | 'crit' | 'unknown' | 'idle' | 'warn';
}

/**
 * Counts as one compact bar of coloured parts with a legend of the figures beside it. The bar is
 * an image whose name says every figure; the legend says them again as text, so neither colour
 * nor the picture is needed to read them.
 */
export function CountBar({ label, parts }: { label: string; parts: readonly BarPart[] }) {
  const total = parts.reduce((n, p) => n + p.count, 0);
  const said = parts.map((p) => `${p.count} ${p.label}`).join(', ');
  return (
    <div className="count-bar">
      <div className="bar" role="img" aria-label={`${label}: ${total ? said : 'none'}`}>
        {parts
          .filter((p) => p.count > 0)
          .map((p) => (
            <span
              key={p.key}
              className={`bar-part tone-${p.tone}`}
              style={{ flexGrow: p.count }}
              title={`${p.count} ${p.label}`}
            />
          ))}
      </div>
      <dl className="bar-legend">
        {parts.map((p) => (
          <div key={p.key}>
            <dt>
              <span className={`swatch tone-${p.tone}`} aria-hidden="true" />
              {p.label}
            </dt>
            <dd>{p.count}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
