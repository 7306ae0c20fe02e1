import type {
  CpuDetails,
  DiskIo,
  DockerContainer,
  GpuDevice,
  NetIo,
  DiskEntry,
} from '@vigil/protocol';
import { fieldsOf, processCount, sectionOf, type CheckDocument } from '@vigil/protocol/decode';

/**
 * Turns a check-data document into numeric samples: one value per series, a series being a
 * metric name (with its unit in the name) plus labels. The key of a series is
 * `metric{label="value",…}` with labels in a fixed order, so the same series always has the same
 * key. Per-process figures are not series (processes come and go every few seconds); they stay
 * in the latest document.
 */

/** The samples of one document, in a stable order: `keys[i]` has `values[i]`. */
export interface Samples {
  keys: string[];
  values: number[];
}

/** Label values are quoted like Prometheus's, with `\` and `"` escaped. */
const quote = (v: string) =>
  `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
/** Quoted label values: the same mounts, devices and interfaces come in every push. */
const quoted = new Map<string, string>();
const q = (v: string): string => {
  let out = quoted.get(v);
  if (out === undefined) {
    if (quoted.size >= 10_000) quoted.clear();
    quoted.set(v, (out = quote(v)));
  }
  return out;
};

/** Builds a series key from a metric and labels given in order. */
export function seriesKey(metric: string, labels: [string, string][] = []): string {
  if (labels.length === 0) return metric;
  let key = `${metric}{${labels[0]![0]}=${q(labels[0]![1])}`;
  for (let i = 1; i < labels.length; i++) key += `,${labels[i]![0]}=${q(labels[i]![1])}`;
  return `${key}}`;
}

/**
 * The keys of a group of metrics sharing one label (an interface's sixteen counters, say), per
 * label value: built at a value's first sight, then one lookup gives them all. The same mounts,
 * devices and interfaces come in every push of every host, so a push builds no key and its keys
 * are the very strings of the host's last push (compared by identity, not character by
 * character).
 */
class LabelGroup {
  private readonly byValue = new Map<string, string[]>();
  constructor(
    readonly label: string,
    readonly metrics: readonly string[],
  ) {}

  keys(value: string): string[] {
    let keys = this.byValue.get(value);
    if (keys === undefined) {
      // Values of hosts long gone would otherwise stay: start over now and then.
      if (this.byValue.size >= 10_000) this.byValue.clear();
      keys = this.metrics.map((m) => seriesKey(m, [[this.label, value]]));
      this.byValue.set(value, keys);
    }
    return keys;
  }
}

/** Fields of an object read into a label group: the field, its metric, and a divisor. */
type Fields<T> = readonly (readonly [field: NumberField<T>, metric: string, divisor?: number])[];
/** The fields of `T` that hold a figure. */
type NumberField<T> = {
  [K in keyof T]-?: NonNullable<T[K]> extends number ? K : never;
}[keyof T];

/** A label group over fields of `T`: its keys and the fields they come from, in order. */
interface FieldGroup<T> {
  fields: Fields<T>;
  group: LabelGroup;
}
const fieldGroup = <T>(label: string, fields: Fields<T>): FieldGroup<T> => ({
  fields,
  group: new LabelGroup(
    label,
    fields.map(([, metric]) => metric),
  ),
});

const CPU_MODES = fieldGroup<CpuDetails>('core', [
  ['User', 'cpu_user_percent'],
  ['System', 'cpu_system_percent'],
  ['Iowait', 'cpu_iowait_percent'],
  ['Nice', 'cpu_nice_percent'],
  ['Idle', 'cpu_idle_percent'],
]);
const CPU_CORE = new LabelGroup('core', ['cpu_usage_percent']);
const DISK = fieldGroup<NonNullable<DiskEntry['usage']>>('mount', [
  ['total', 'disk_total_bytes'],
  ['used', 'disk_used_bytes'],
  ['free', 'disk_free_bytes'],
  ['percent', 'disk_usage_percent'],
]);
// The agent gives times in milliseconds: divided into seconds.
const DISK_IO = fieldGroup<DiskIo>('device', [
  ['ReadBytesPerSecond', 'diskio_read_bytes_per_second'],
  ['WriteBytesPerSecond', 'diskio_write_bytes_per_second'],
  ['ReadIopsPerSecond', 'diskio_read_iops'],
  ['WriteIopsPerSecond', 'diskio_write_iops'],
  ['LoadPercent', 'diskio_load_percent'],
  ['TotalIopsPerSecond', 'diskio_iops'],
  // Counters since boot, and the mean wait and size of the interval's requests.
  ['ReadBytes', 'diskio_read_bytes_total'],
  ['WriteBytes', 'diskio_write_bytes_total'],
  ['ReadCount', 'diskio_reads_total'],
  ['WriteCount', 'diskio_writes_total'],
  ['ReadTime', 'diskio_read_time_seconds_total', 1000],
  ['WriteTime', 'diskio_write_time_seconds_total', 1000],
  ['IoTime', 'diskio_io_time_seconds_total', 1000],
  ['TotalAvgWait', 'diskio_wait_seconds', 1000],
  ['ReadAvgWait', 'diskio_read_wait_seconds', 1000],
  ['WriteAvgWait', 'diskio_write_wait_seconds', 1000],
  ['ReadAvgSize', 'diskio_read_size_bytes'],
  ['WriteAvgSize', 'diskio_write_size_bytes'],
]);
const NET_IO = fieldGroup<NetIo>('interface', [
  ['avg_bytes_recv_ps', 'net_rx_bytes_per_second'],
  ['avg_bytes_sent_ps', 'net_tx_bytes_per_second'],
  ['avg_packets_recv_ps', 'net_rx_packets_per_second'],
  ['avg_packets_sent_ps', 'net_tx_packets_per_second'],
  ['avg_errin', 'net_rx_errors_per_second'],
  ['avg_errout', 'net_tx_errors_per_second'],
  ['avg_dropin', 'net_rx_drops_per_second'],
  ['avg_dropout', 'net_tx_drops_per_second'],
  ['bytes_recv', 'net_rx_bytes_total'],
  ['bytes_sent', 'net_tx_bytes_total'],
  ['packets_recv', 'net_rx_packets_total'],
  ['packets_sent', 'net_tx_packets_total'],
  ['errin', 'net_rx_errors_total'],
  ['errout', 'net_tx_errors_total'],
  ['dropin', 'net_rx_drops_total'],
  ['dropout', 'net_tx_drops_total'],
]);
const NET_LINK = new LabelGroup('interface', [
  'net_up',
  'net_mtu_bytes',
  'net_speed_bytes_per_second',
]);
const TEMPERATURE = new LabelGroup('sensor', ['temperature_celsius']);
const BATTERY = new LabelGroup('battery', ['battery_percent']);
const CONTAINER = fieldGroup<DockerContainer>('container', [
  ['cpu_percentage', 'container_cpu_percent'],
  ['memory_used', 'container_memory_bytes'],
  ['memory_percentage', 'container_memory_percent'],
  ['network_rx', 'container_network_rx_bytes'],
  ['network_tx', 'container_network_tx_bytes'],
]);
const GPU = fieldGroup<GpuDevice>('gpu', [
  ['utilization_percent', 'gpu_utilization_percent'],
  ['memory_used_bytes', 'gpu_memory_used_bytes'],
  ['memory_total_bytes', 'gpu_memory_total_bytes'],
  ['temperature_celsius', 'gpu_temperature_celsius'],
  ['power_watts', 'gpu_power_watts'],
]);
const TCP_STATE = new LabelGroup('state', ['tcp_connections']);
const SMART = new LabelGroup('device', ['smart_temperature_celsius']);
const CHECK = new LabelGroup('check', ['check_state', 'check_duration_seconds']);
/** Perfdata keys by check, then label (two labels: no label group). */
const perfdataKeys = new Map<string, Map<string, string>>();
function perfdataKey(check: string, label: string): string {
  let byLabel = perfdataKeys.get(check);
  if (!byLabel) {
    if (perfdataKeys.size >= 10_000) perfdataKeys.clear();
    perfdataKeys.set(check, (byLabel = new Map()));
  }
  let key = byLabel.get(label);
  if (key === undefined) {
    if (byLabel.size >= 1_000) byLabel.clear();
    key = seriesKey('check_perfdata', [
      ['check', check],
      ['label', label],
    ]);
    byLabel.set(label, key);
  }
  return key;
}

/**
 * Room for the samples of one document, used again for the next: normalising a push then
 * allocates nothing that grows with its series (a fleet pushes a thousand documents a second,
 * and every array or set grown and dropped per push is work for the garbage collector).
 * `keys[i]` has `values[i]` for `i < length`; what lies beyond is left over.
 */
export class SampleBuffer {
  keys: string[] = [];
  values = new Float64Array(256);
  length = 0;
  /** The generation in which each key was last kept: a key of the current one is a repeat. */
  private readonly kept = new Map<string, number>();
  private generation = 0;

  /** Starts a document. */
  reset(): void {
    this.length = 0;
  }

  /** Adds a sample (repeats included: `dropRepeats` removes them). */
  add(key: string, value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.keys[this.length] = key;
    this.values[this.length++] = value;
  }

  /** Keeps the first sample of each series, in order; returns how many are left. */
  dropRepeats(): number {
    this.generation += 1;
    // Keys of hosts long gone would otherwise stay: start over now and then.
    if (this.kept.size > 20_000 || this.generation > 1 << 30) {
      this.kept.clear();
      this.generation = 1;
    }
    const { keys, values, kept, generation } = this;
    let n = 0;
    for (let i = 0; i < this.length; i++) {
      const key = keys[i]!;
      if (kept.get(key) === generation) continue;
      kept.set(key, generation);
      keys[n] = key;
      values[n++] = values[i]!;
    }
    return (this.length = n);
  }
}

/** Splits a series key into its metric and labels (the inverse of `seriesKey`). */
export function parseSeriesKey(key: string): { metric: string; labels: Record<string, string> } {
  const brace = key.indexOf('{');
  if (brace < 0) return { metric: key, labels: {} };
  const labels: Record<string, string> = {};
  const re = /([a-z_]+)="((?:[^"\\]|\\.)*)"/g;
  for (const m of key.slice(brace + 1, -1).matchAll(re))
    labels[m[1]!] = m[2]!.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
  return { metric: key.slice(0, brace), labels };
}

/** Extracts the samples of a document. Missing or failed sections give no samples. */
export function normalize(doc: CheckDocument): Samples {
  const into = new SampleBuffer();
  const n = normalizeInto(doc, into);
  return { keys: into.keys.slice(0, n), values: Array.from(into.values.subarray(0, n)) };
}

/** `normalize` into a buffer used again and again; returns how many samples it holds. */
export function normalizeInto(doc: CheckDocument, into: SampleBuffer): number {
  collectInto(doc, into);
  // Two sensors may share a label (one "Core 0" per package): the first one wins.
  return into.dropRepeats();
}

/**
 * The samples of a document into a buffer, in document order with any repeated series still
 * in: a host's documents name the same series in the same order push after push, so a caller
 * that knows the last list can compare against it and drop repeats only when it differs.
 */
export function collectInto(doc: CheckDocument, into: SampleBuffer): number {
  into.reset();
  // The document is decoded (`@vigil/protocol/decode`): a field is of its type or absent, and
  // JSON has no NaN or infinity; only the GPU's and SMART's figures may be null.
  const add = (key: string, value: number | null | undefined) => {
    if (value !== undefined && value !== null) into.add(key, value);
  };
  /** The fields of `d` as the group's series of `labelValue`. */
  const addFields = <T>(g: FieldGroup<T>, labelValue: string, d: T) => {
    const keys = g.group.keys(labelValue);
    const { fields } = g;
    for (let i = 0; i < fields.length; i++) {
      const v = d[fields[i]![0]] as number | null | undefined;
      if (v === undefined || v === null) continue;
      const divisor = fields[i]![2];
      into.add(keys[i]!, divisor === undefined ? v : v / divisor);
    }
  };

  add('uptime_seconds', fieldsOf(doc.agent).system_uptime);

  const cpu = sectionOf(doc.cpu);
  if (cpu) {
    add('cpu_usage_percent', cpu.cpu_total_percentage);
    const total = cpu.cpu_total_percentage_detailed;
    if (total) for (const [field, metric] of CPU_MODES.fields) add(metric, total[field]);
    if (cpu.cpu_percentage)
      cpu.cpu_percentage.forEach((v, i) => add(CPU_CORE.keys(String(i))[0]!, v));
    if (cpu.cpu_percentage_detailed)
      cpu.cpu_percentage_detailed.forEach((d, i) => addFields(CPU_MODES, String(i), d));
  }

  const load = fieldsOf(doc.system_load);
  add('load1', load['0']);
  add('load5', load['1']);
  add('load15', load['2']);

  const mem = fieldsOf(doc.memory);
  {
    add('memory_total_bytes', mem.total);
    add('memory_used_bytes', mem.used);
    add('memory_free_bytes', mem.free);
    add('memory_available_bytes', mem.available);
    add('memory_buffers_bytes', mem.buffers);
    add('memory_cached_bytes', mem.cached);
    add('memory_usage_percent', mem.percent);
    add('memory_active_bytes', mem.active);
    add('memory_inactive_bytes', mem.inactive);
    add('memory_shared_bytes', mem.shared);
  }
  const swap = fieldsOf(doc.swap);
  {
    add('swap_total_bytes', swap.total);
    add('swap_used_bytes', swap.used);
    add('swap_usage_percent', swap.percent);
    add('swap_free_bytes', swap.free);
    add('swap_in_bytes_total', swap.sin);
    add('swap_out_bytes_total', swap.sout);
  }

  if (Array.isArray(doc.disks)) {
    let fullest: number | undefined;
    for (const entry of doc.disks) {
      if (!entry.disk || !entry.usage) continue;
      addFields(DISK, entry.disk.mountpoint ?? '', entry.usage);
      const p = entry.usage.percent;
      if (p !== undefined && (fullest === undefined || p > fullest)) fullest = p;
    }
    // The fullest file system: what "disk" means on a host-level chart.
    if (fullest !== undefined) add('disk_usage_percent', fullest);
  }

  const io = sectionOf(doc.disk_io);
  if (io) for (const device in io) addFields(DISK_IO, device, io[device]!);

  const net = sectionOf(doc.net_io);
  if (net) {
    let rx = 0;
    let tx = 0;
    for (const iface in net) {
      const n = net[iface]!;
      addFields(NET_IO, iface, n);
      if (iface !== 'lo') {
        rx += n.avg_bytes_recv_ps ?? 0;
        tx += n.avg_bytes_sent_ps ?? 0;
      }
    }
    // Host totals, loopback excluded: what "network" means on a host-level chart.
    add('net_rx_bytes_per_second', rx);
    add('net_tx_bytes_per_second', tx);
  }

  const links = sectionOf(doc.net_stats);
  if (links)
    for (const iface in links) {
      const l = links[iface]!;
      const [up, mtu, speedKey] = NET_LINK.keys(iface) as [string, string, string];
      if (l.isup !== undefined) add(up, l.isup ? 1 : 0);
      add(mtu, l.mtu);
      // Megabits per second; 0 or below when the driver does not say (virtual interfaces).
      const speed = l.speed;
      if (speed !== undefined && speed > 0) add(speedKey, speed * 125_000);
    }

  const sensors = fieldsOf(doc.sensors);
  {
    if (sensors.Temperatures)
      for (const t of sensors.Temperatures)
        if (t.label !== undefined) add(TEMPERATURE.keys(t.label)[0]!, t.current);
    if (sensors.Batteries)
      for (const b of sensors.Batteries) add(BATTERY.keys(String(b.id))[0]!, b.percent);
  }

  add('processes', processCount(doc));

  if (Array.isArray(doc.docker))
    for (const c of doc.docker) if (c.name !== undefined) addFields(CONTAINER, c.name, c);

  const gpu = sectionOf(doc.gpu);
  if (gpu?.available === true && gpu.devices)
    for (const g of gpu.devices) addFields(GPU, String(g.index), g);

  const conns = sectionOf(doc.net_connections);
  if (conns?.available === true) {
    add('tcp_connections', conns.total);
    if (conns.tcp) for (const state in conns.tcp) add(TCP_STATE.keys(state)[0]!, conns.tcp[state]);
  }

  const smart = sectionOf(doc.smart);
  if (smart?.available === true && smart.disks)
    for (const d of smart.disks)
      if (d.device !== undefined) add(SMART.keys(d.device)[0]!, d.temperature_celsius);

  const checks = doc.customchecks;
  if (checks)
    for (const name in checks) {
      const c = checks[name]!;
      const [state, duration] = CHECK.keys(name) as [string, string];
      add(state, c.rc);
      add(duration, c.duration_seconds);
      if (c.perfdata) for (const p of c.perfdata) add(perfdataKey(name, p.label), p.value);
    }

  return into.length;
}
