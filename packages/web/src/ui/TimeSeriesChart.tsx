import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { bytes, percent, rate } from './format';
import './chart.css';

/** The unit of a chart's values: it decides the axis labels and the legend's figures. */
export type ChartUnit = 'percent' | 'bytes' | 'rate' | 'celsius' | 'watts' | 'number';

/** Formats one value in a unit, for axes and legends; `—` for no value. */
export function formatUnit(unit: ChartUnit, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  switch (unit) {
    case 'percent':
      return percent(v);
    case 'bytes':
      return bytes(v);
    case 'rate':
      return rate(v);
    case 'celsius':
      return `${v.toFixed(v >= 100 ? 0 : 1)} °C`;
    case 'watts':
      return `${v.toFixed(v >= 100 ? 0 : 1)} W`;
    case 'number':
      return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2).replace(/\.?0+$/, '');
  }
}

/** An axis label: whole percentages and plain numbers stay short. */
function axisLabel(unit: ChartUnit, v: number): string {
  if (unit === 'percent') return `${Math.round(v)} %`;
  if (unit === 'number') return String(Math.round(v * 100) / 100);
  if (unit === 'celsius' && Number.isInteger(v)) return `${v} °C`;
  if (unit === 'watts' && Number.isInteger(v)) return `${v} W`;
  return formatUnit(unit, v);
}

/**
 * The smallest top of a value axis, so that a flat line (an idle interface at 0 B/s) still gets
 * distinct labels.
 */
const MIN_TOP: Record<ChartUnit, number> = {
  percent: 1,
  bytes: 1024,
  rate: 1024,
  celsius: 10,
  watts: 10,
  number: 1,
};

/** Grid steps for byte figures: 1, 2, 5, 10, 20, 50, 100, 200, 500 of each binary unit. */
const BINARY_STEPS = [0, 1, 2, 3, 4, 5].flatMap((k) =>
  [1, 2, 5, 10, 20, 50, 100, 200, 500].map((m) => m * 1024 ** k),
);

/** The width of a value axis: its longest label, measured in the chart's font, plus the ticks. */
function axisWidth(u: uPlot, values: string[] | null, axisIdx: number): number {
  if (!values?.length) return 48;
  const font = u.axes[axisIdx]?.font;
  u.ctx.font = Array.isArray(font) ? String(font[0]) : '12px system-ui';
  const widest = Math.max(...values.map((v) => u.ctx.measureText(v).width));
  return Math.ceil(widest / devicePixelRatio) + 22;
}

/** The newest value of a column, for the legend when the cursor is off the chart. */
function lastValue(col: readonly (number | null | undefined)[] | undefined): number | null {
  if (!col) return null;
  for (let i = col.length - 1; i >= 0; i--)
    if (col[i] !== null && col[i] !== undefined) return col[i]!;
  return null;
}

/** A horizontal line at a value (a warning or critical level). */
export interface Threshold {
  value: number;
  tone: 'warn' | 'crit';
}

/** Columns of a chart: times in epoch seconds, then one array of values per series. */
export type ChartData = [xs: number[], ...ys: (number | null)[][]];

/** Reads the theme's colours from the page's CSS variables. */
function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string) => css.getPropertyValue(name).trim();
  return {
    series: [1, 2, 3, 4, 5, 6].map((i) => v(`--chart-${i}`)),
    text: v('--muted'),
    grid: v('--border'),
    warn: v('--warn'),
    crit: v('--crit'),
  };
}

/** Counts theme changes (the operator's choice or the system's), so charts redraw in colour. */
function useThemeVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const bump = () => setVersion((n) => n + 1);
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    window.addEventListener('vigil:theme', bump);
    mq.addEventListener('change', bump);
    return () => {
      window.removeEventListener('vigil:theme', bump);
      mq.removeEventListener('change', bump);
    };
  }, []);
  return version;
}

/**
 * One time-series chart (uPlot on a canvas) of fixed height: units on the value axis and in the
 * legend (which shows the values under the cursor), optional thresholds, cursors synced across
 * the charts sharing `syncKey`, and drag-to-zoom, which reports the chosen span (epoch ms) to
 * `onZoom` so that every chart can follow it. `range` (epoch ms) is the time axis; `data` may
 * change often (live points) and is drawn without rebuilding the chart.
 */
export function TimeSeriesChart(props: {
  title: string;
  unit: ChartUnit;
  series: readonly string[];
  data: ChartData | null;
  range: { from: number; to: number };
  syncKey?: string;
  height?: number;
  max?: number;
  thresholds?: readonly Threshold[];
  onZoom?: (from: number, to: number) => void;
  legend?: boolean;
  note?: string;
  /** True while newer data is on its way (the chart shows what it had). */
  busy?: boolean;
}) {
  const { unit, series, syncKey, max, legend = true, height = 170 } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const rangeRef = useRef(props.range);
  rangeRef.current = props.range;
  const zoomRef = useRef(props.onZoom);
  zoomRef.current = props.onZoom;
  const thresholdsRef = useRef(props.thresholds);
  thresholdsRef.current = props.thresholds;
  const dataRef = useRef(props.data);
  dataRef.current = props.data;
  const theme = useThemeVersion();
  const seriesKey = series.join('\u0000');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const colours = palette();
    const fmt = (v: number | null | undefined) => formatUnit(unit, v);
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: legend, live: true },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        sync: syncKey ? { key: syncKey } : undefined,
        points: { size: 6 },
      },
      scales: {
        x: {
          time: true,
          range: () => [rangeRef.current.from / 1000, rangeRef.current.to / 1000],
        },
        y: {
          range: (_u, lo, hi) => {
            if (max !== undefined) return [0, Math.max(max, hi ?? 0)];
            const high = Math.max(MIN_TOP[unit], hi !== null && Number.isFinite(hi) ? hi : 0);
            // A rounded top a little above the highest value, as uPlot would pick.
            const top = uPlot.rangeNum(0, high, 0.1, true)[1] ?? high;
            return [Math.min(0, lo ?? 0), top];
          },
        },
      },
      axes: [
        {
          stroke: colours.text,
          grid: { stroke: colours.grid, width: 1 },
          ticks: { stroke: colours.grid, width: 1 },
        },
        {
          stroke: colours.text,
          grid: { stroke: colours.grid, width: 1 },
          ticks: { stroke: colours.grid, width: 1 },
          size: axisWidth,
          incrs: unit === 'bytes' || unit === 'rate' ? BINARY_STEPS : undefined,
          values: (_u, splits) => splits.map((v) => axisLabel(unit, v)),
        },
      ],
      series: [
        {
          label: 'Time',
          // Off the chart, the legend shows the newest figures.
          value: (_u, v) => (v === null ? 'latest' : new Date(v * 1000).toLocaleString()),
        },
        ...series.map((label, i) => ({
          label,
          stroke: colours.series[i % colours.series.length],
          width: 1.5,
          spanGaps: false,
          points: { show: false },
          value: (u: uPlot, v: number | null, sidx: number, idx: number | null) =>
            fmt(idx === null ? lastValue(u.data[sidx] as (number | null)[]) : v),
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width > 3 && zoomRef.current) {
              const a = u.posToVal(u.select.left, 'x');
              const b = u.posToVal(u.select.left + u.select.width, 'x');
              zoomRef.current(Math.round(a * 1000), Math.round(b * 1000));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        draw: [
          (u) => {
            const ts = thresholdsRef.current;
            if (!ts?.length) return;
            const { ctx, bbox } = u;
            ctx.save();
            ctx.setLineDash([6, 4]);
            ctx.lineWidth = devicePixelRatio;
            for (const t of ts) {
              const y = u.valToPos(t.value, 'y', true);
              if (y < bbox.top || y > bbox.top + bbox.height) continue;
              ctx.strokeStyle = t.tone === 'crit' ? colours.crit : colours.warn;
              ctx.beginPath();
              ctx.moveTo(bbox.left, y);
              ctx.lineTo(bbox.left + bbox.width, y);
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
    const empty: ChartData = [[], ...series.map(() => [])];
    const u = new uPlot(opts, (dataRef.current ?? empty) as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The chart is rebuilt when its shape or the theme changes; data and range are applied below.
  }, [seriesKey, unit, syncKey, max, legend, height, theme]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    if (props.data) u.setData(props.data as uPlot.AlignedData);
    else u.setScale('x', { min: props.range.from / 1000, max: props.range.to / 1000 });
  }, [props.data, props.range.from, props.range.to]);

  return (
    <figure className="chart card" aria-busy={props.busy ?? !props.data}>
      <figcaption className="chart-title">
        <span>{props.title}</span>
        {props.note && <span className="muted small">{props.note}</span>}
      </figcaption>
      <div className="chart-plot" style={{ minHeight: height }}>
        <div ref={box} className="chart-canvas" />
        {!props.data && (
          <div className="chart-overlay muted" style={{ height }} role="status">
            Loading…
          </div>
        )}
        {props.data && props.data[0].length === 0 && (
          <div className="chart-overlay muted" style={{ height }}>
            No data in this range
          </div>
        )}
      </div>
    </figure>
  );
}
