import { memo } from 'react';
import './sparkline.css';

/**
 * A tiny line of recent values (oldest first), drawn as an SVG polyline of fixed size so that a
 * list of them never moves when data arrives. A null is a gap. `max` fixes the top of the scale
 * (100 for percentages); without it the largest value is the top. `label` names the line for
 * screen readers ("CPU, last 30 minutes"); the value shown beside it is the caller's.
 */
export const Sparkline = memo(function Sparkline(props: {
  values: readonly (number | null)[];
  label: string;
  max?: number;
  width?: number;
  height?: number;
  tone?: 'ok' | 'warn' | 'crit' | 'plain';
}) {
  const { values, width = 96, height = 24 } = props;
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const top = props.max ?? Math.max(1e-9, ...finite);
  const n = values.length;
  const step = n > 1 ? width / (n - 1) : width;
  // One polyline per unbroken run of values: a gap in the data is a gap in the line.
  const runs: string[] = [];
  let run: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (run.length) runs.push(run.join(' '));
      run = [];
      return;
    }
    const y = height - 1 - (Math.min(Math.max(v, 0), top) / top) * (height - 2);
    run.push(`${(i * step).toFixed(1)},${y.toFixed(1)}`);
  });
  if (run.length) runs.push(run.join(' '));
  return (
    <svg
      className={`sparkline tone-${props.tone ?? 'plain'}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={props.label}
    >
      <line className="base" x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} />
      {runs.map((pts, i) =>
        pts.includes(' ') ? (
          <polyline key={i} points={pts} />
        ) : (
          <circle key={i} cx={pts.split(',')[0]} cy={pts.split(',')[1]} r="1.2" />
        ),
      )}
    </svg>
  );
});
