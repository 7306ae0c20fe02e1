// Which charts a host gets, from the series it has: one chart per subject (CPU, load, memory,
// disks, network, temperatures, GPUs), each naming the series it draws. Live points come from
// the stream's metrics events, read here into the same series.
import type { Answer } from '../../../api/types';
import type { ChartUnit, Threshold } from '../../../ui/TimeSeriesChart';
import type { MetricsEvent } from '../../fleet/live';

/** The series of a host, as `GET /api/v1/series` lists them. */
export type SeriesInfo = Answer<'/api/v1/series'>['series'][number];

/** One line of a chart: the stored series' key, its legend label, and its live sample's id. */
export interface ChartLine {
  key: string;
  label: string;
  id: string;
}

/** One chart of the host's overview. */
export interface ChartSpec {
  id: string;
  title: string;
  unit: ChartUnit;
  max?: number;
  thresholds?: Threshold[];
  lines: ChartLine[];
  legend: boolean;
}

/** A live sample's id: the metric and its one label's value (empty without a label). */
const sampleId = (metric: string, label = '') => `${metric}|${label}`;
const labelOf = (s: SeriesInfo) => Object.values(s.labels)[0] ?? '';

/** Devices not worth a line: loop devices and RAM disks. */
const IGNORED_DEVICE = /^(loop|ram|zram)\d/;

/** The charts for a host's series, in reading order; subjects without series are left out. */
export function chartSpecs(series: readonly SeriesInfo[]): ChartSpec[] {
  const by = (metric: string, labelled: boolean) =>
    series
      .filter((s) => s.metric === metric && Object.keys(s.labels).length > 0 === labelled)
      .sort((a, b) => labelOf(a).localeCompare(labelOf(b), undefined, { numeric: true }));
  const line = (s: SeriesInfo, label: string): ChartLine => ({
    key: s.key,
    label,
    id: sampleId(s.metric, labelOf(s)),
  });
  const specs: ChartSpec[] = [];
  const add = (spec: Omit<ChartSpec, 'legend'> & { legend?: boolean }) => {
    if (spec.lines.length) specs.push({ legend: true, ...spec });
  };
  add({
    id: 'cpu',
    title: 'CPU',
    unit: 'percent',
    max: 100,
    lines: by('cpu_usage_percent', false).map((s) => line(s, 'Total')),
  });
  const cores = by('cpu_usage_percent', true);
  add({
    id: 'cores',
    title: `CPU per core (${cores.length})`,
    unit: 'percent',
    max: 100,
    lines: cores.map((s) => line(s, `Core ${labelOf(s)}`)),
    legend: cores.length <= 8,
  });
  add({
    id: 'load',
    title: 'Load average',
    unit: 'number',
    lines: [
      ...by('load1', false).map((s) => line(s, '1 min')),
      ...by('load5', false).map((s) => line(s, '5 min')),
      ...by('load15', false).map((s) => line(s, '15 min')),
    ],
  });
  add({
    id: 'memory',
    title: 'Memory and swap',
    unit: 'percent',
    max: 100,
    lines: [
      ...by('memory_usage_percent', false).map((s) => line(s, 'Memory')),
      ...by('swap_usage_percent', false).map((s) => line(s, 'Swap')),
    ],
  });
  add({
    id: 'disk',
    title: 'Disk usage per mount',
    unit: 'percent',
    max: 100,
    thresholds: [
      { value: 80, tone: 'warn' },
      { value: 90, tone: 'crit' },
    ],
    lines: by('disk_usage_percent', true).map((s) => line(s, labelOf(s))),
  });
  const io = (m: string, dir: string) =>
    by(m, true)
      .filter((s) => !IGNORED_DEVICE.test(labelOf(s)))
      .map((s) => line(s, `${labelOf(s)} ${dir}`));
  add({
    id: 'diskio',
    title: 'Disk I/O per device',
    unit: 'rate',
    lines: [
      ...io('diskio_read_bytes_per_second', 'read'),
      ...io('diskio_write_bytes_per_second', 'write'),
    ],
  });
  const net = (m: string, dir: string) =>
    by(m, true)
      .filter((s) => labelOf(s) !== 'lo')
      .map((s) => line(s, `${labelOf(s)} ${dir}`));
  add({
    id: 'network',
    title: 'Network per interface',
    unit: 'rate',
    lines: [...net('net_rx_bytes_per_second', 'in'), ...net('net_tx_bytes_per_second', 'out')],
  });
  add({
    id: 'temperature',
    title: 'Temperatures',
    unit: 'celsius',
    lines: by('temperature_celsius', true).map((s) => line(s, labelOf(s))),
  });
  add({
    id: 'gpu',
    title: 'GPU utilisation',
    unit: 'percent',
    max: 100,
    lines: by('gpu_utilization_percent', true).map((s) => line(s, `GPU ${labelOf(s)}`)),
  });
  add({
    id: 'gpu-memory',
    title: 'GPU memory used',
    unit: 'bytes',
    lines: by('gpu_memory_used_bytes', true).map((s) => line(s, `GPU ${labelOf(s)}`)),
  });
  add({
    id: 'gpu-temperature',
    title: 'GPU temperature',
    unit: 'celsius',
    lines: by('gpu_temperature_celsius', true).map((s) => line(s, `GPU ${labelOf(s)}`)),
  });
  return specs;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The samples of one metrics event by sample id, computed as the server's normaliser stores
 * them (memory in use is total less available; a mount's usage is used of used plus free).
 */
export function samplesOf(e: MetricsEvent): Map<string, number> {
  const out = new Map<string, number>();
  const put = (id: string, v: unknown) => {
    if (finite(v)) out.set(id, v);
  };
  put(sampleId('cpu_usage_percent'), e.cpu?.totalUsage);
  e.cpu?.cores.forEach((c, i) => put(sampleId('cpu_usage_percent', String(i)), c.usage));
  put(sampleId('load1'), e.cpu?.loadAverage.one);
  put(sampleId('load5'), e.cpu?.loadAverage.five);
  put(sampleId('load15'), e.cpu?.loadAverage.fifteen);
  const m = e.memory;
  if (m && finite(m.total) && m.total > 0 && finite(m.available))
    put(sampleId('memory_usage_percent'), ((m.total - m.available) / m.total) * 100);
  if (m && finite(m.swapTotal) && m.swapTotal > 0 && finite(m.swapUsed))
    put(sampleId('swap_usage_percent'), (m.swapUsed / m.swapTotal) * 100);
  for (const d of e.disk?.mounts ?? [])
    if (finite(d.used) && finite(d.free) && d.used + d.free > 0)
      put(sampleId('disk_usage_percent', d.mountpoint ?? ''), (d.used / (d.used + d.free)) * 100);
  for (const d of e.disk?.io ?? []) {
    put(sampleId('diskio_read_bytes_per_second', d.device), d.readRate);
    put(sampleId('diskio_write_bytes_per_second', d.device), d.writeRate);
  }
  for (const i of e.network?.interfaces ?? []) {
    put(sampleId('net_rx_bytes_per_second', i.name), i.rxRate);
    put(sampleId('net_tx_bytes_per_second', i.name), i.txRate);
  }
  for (const t of e.temperature?.sensors ?? [])
    if (t.name !== null) put(sampleId('temperature_celsius', t.name), t.value);
  for (const g of e.gpu?.gpus ?? []) {
    const idx = String(g.index ?? '');
    put(sampleId('gpu_utilization_percent', idx), g.utilization);
    put(sampleId('gpu_memory_used_bytes', idx), g.memoryUsed);
    put(sampleId('gpu_temperature_celsius', idx), g.temperature);
  }
  return out;
}
