import { ProcessList } from './process-list.js';

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

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
/** Label values are quoted like Prometheus's, with `\` and `"` escaped. */
const quote = (v: string) =>
  `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
/** Milliseconds as seconds. */
const seconds = (v: unknown): number | undefined => {
  const ms = num(v);
  return ms === undefined ? undefined : ms / 1000;
};
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
 * Keys of one-label series by metric and label value: built once, then looked up (a metric has
 * one label name; another name builds the key).
 */
const oneLabel = new Map<string, { name: string; keys: Map<string, string> }>();
let oneLabelSize = 0;
function keyOf(metric: string, name: string, value: string): string {
  let byValue = oneLabel.get(metric);
  if (!byValue) oneLabel.set(metric, (byValue = { name, keys: new Map() }));
  else if (byValue.name !== name) return seriesKey(metric, [[name, value]]);
  let key = byValue.keys.get(value);
  if (key === undefined) {
    if (++oneLabelSize > 50_000) {
      oneLabel.clear();
      oneLabelSize = 0;
    }
    key = seriesKey(metric, [[name, value]]);
    byValue.keys.set(value, key);
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
export function normalize(doc: Rec): Samples {
  const into = new SampleBuffer();
  const n = normalizeInto(doc, into);
  return { keys: into.keys.slice(0, n), values: Array.from(into.values.subarray(0, n)) };
}

/** `normalize` into a buffer used again and again; returns how many samples it holds. */
export function normalizeInto(doc: Rec, into: SampleBuffer): number {
  collectInto(doc, into);
  // Two sensors may share a label (one "Core 0" per package): the first one wins.
  return into.dropRepeats();
}

/**
 * The samples of a document into a buffer, in document order with any repeated series still
 * in: a host's documents name the same series in the same order push after push, so a caller
 * that knows the last list can compare against it and drop repeats only when it differs.
 */
export function collectInto(doc: Rec, into: SampleBuffer): number {
  into.reset();
  const add = (metric: string, value: unknown, label?: string, labelValue?: string) => {
    const v = num(value);
    if (v === undefined) return;
    into.add(label === undefined ? metric : keyOf(metric, label, labelValue!), v);
  };
  const addKey = (key: string, value: unknown) => {
    const v = num(value);
    if (v !== undefined) into.add(key, v);
  };

  const agent = doc.agent;
  if (isRec(agent)) add('uptime_seconds', agent.system_uptime);

  const cpu = doc.cpu;
  if (isRec(cpu) && !('error' in cpu)) {
    add('cpu_usage_percent', cpu.cpu_total_percentage);
    const modes = (d: unknown, core?: string) => {
      if (!isRec(d)) return;
      const label = core === undefined ? undefined : 'core';
      add('cpu_user_percent', d.User, label, core);
      add('cpu_system_percent', d.System, label, core);
      add('cpu_iowait_percent', d.Iowait, label, core);
      add('cpu_nice_percent', d.Nice, label, core);
      add('cpu_idle_percent', d.Idle, label, core);
    };
    modes(cpu.cpu_total_percentage_detailed);
    if (Array.isArray(cpu.cpu_percentage))
      cpu.cpu_percentage.forEach((v, i) => add('cpu_usage_percent', v, 'core', String(i)));
    if (Array.isArray(cpu.cpu_percentage_detailed))
      cpu.cpu_percentage_detailed.forEach((d, i) => modes(d, String(i)));
  }

  const load = doc.system_load;
  if (isRec(load)) {
    add('load1', load['0']);
    add('load5', load['1']);
    add('load15', load['2']);
  }

  const mem = doc.memory;
  if (isRec(mem)) {
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
  const swap = doc.swap;
  if (isRec(swap)) {
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
      if (!isRec(entry) || !isRec(entry.disk) || !isRec(entry.usage)) continue;
      const mount = typeof entry.disk.mountpoint === 'string' ? entry.disk.mountpoint : '';
      add('disk_total_bytes', entry.usage.total, 'mount', mount);
      add('disk_used_bytes', entry.usage.used, 'mount', mount);
      add('disk_free_bytes', entry.usage.free, 'mount', mount);
      add('disk_usage_percent', entry.usage.percent, 'mount', mount);
      const p = num(entry.usage.percent);
      if (p !== undefined && (fullest === undefined || p > fullest)) fullest = p;
    }
    // The fullest file system: what "disk" means on a host-level chart.
    if (fullest !== undefined) add('disk_usage_percent', fullest);
  }

  const io = doc.disk_io;
  if (isRec(io) && !('error' in io)) {
    for (const device in io) {
      const d = io[device];
      if (!isRec(d)) continue;
      add('diskio_read_bytes_per_second', d.ReadBytesPerSecond, 'device', device);
      add('diskio_write_bytes_per_second', d.WriteBytesPerSecond, 'device', device);
      add('diskio_read_iops', d.ReadIopsPerSecond, 'device', device);
      add('diskio_write_iops', d.WriteIopsPerSecond, 'device', device);
      add('diskio_load_percent', d.LoadPercent, 'device', device);
      add('diskio_iops', d.TotalIopsPerSecond, 'device', device);
      // Counters since boot, and the mean wait and size of the interval's requests; the agent
      // gives times in milliseconds.
      add('diskio_read_bytes_total', d.ReadBytes, 'device', device);
      add('diskio_write_bytes_total', d.WriteBytes, 'device', device);
      add('diskio_reads_total', d.ReadCount, 'device', device);
      add('diskio_writes_total', d.WriteCount, 'device', device);
      add('diskio_read_time_seconds_total', seconds(d.ReadTime), 'device', device);
      add('diskio_write_time_seconds_total', seconds(d.WriteTime), 'device', device);
      add('diskio_io_time_seconds_total', seconds(d.IoTime), 'device', device);
      add('diskio_wait_seconds', seconds(d.TotalAvgWait), 'device', device);
      add('diskio_read_wait_seconds', seconds(d.ReadAvgWait), 'device', device);
      add('diskio_write_wait_seconds', seconds(d.WriteAvgWait), 'device', device);
      add('diskio_read_size_bytes', d.ReadAvgSize, 'device', device);
      add('diskio_write_size_bytes', d.WriteAvgSize, 'device', device);
    }
  }

  const net = doc.net_io;
  if (isRec(net) && !('error' in net)) {
    let rx = 0;
    let tx = 0;
    for (const iface in net) {
      const n = net[iface];
      if (!isRec(n)) continue;
      add('net_rx_bytes_per_second', n.avg_bytes_recv_ps, 'interface', iface);
      add('net_tx_bytes_per_second', n.avg_bytes_sent_ps, 'interface', iface);
      add('net_rx_packets_per_second', n.avg_packets_recv_ps, 'interface', iface);
      add('net_tx_packets_per_second', n.avg_packets_sent_ps, 'interface', iface);
      add('net_rx_errors_per_second', n.avg_errin, 'interface', iface);
      add('net_tx_errors_per_second', n.avg_errout, 'interface', iface);
      add('net_rx_drops_per_second', n.avg_dropin, 'interface', iface);
      add('net_tx_drops_per_second', n.avg_dropout, 'interface', iface);
      add('net_rx_bytes_total', n.bytes_recv, 'interface', iface);
      add('net_tx_bytes_total', n.bytes_sent, 'interface', iface);
      add('net_rx_packets_total', n.packets_recv, 'interface', iface);
      add('net_tx_packets_total', n.packets_sent, 'interface', iface);
      add('net_rx_errors_total', n.errin, 'interface', iface);
      add('net_tx_errors_total', n.errout, 'interface', iface);
      add('net_rx_drops_total', n.dropin, 'interface', iface);
      add('net_tx_drops_total', n.dropout, 'interface', iface);
      if (iface !== 'lo') {
        rx += num(n.avg_bytes_recv_ps) ?? 0;
        tx += num(n.avg_bytes_sent_ps) ?? 0;
      }
    }
    // Host totals, loopback excluded: what "network" means on a host-level chart.
    add('net_rx_bytes_per_second', rx);
    add('net_tx_bytes_per_second', tx);
  }

  const links = doc.net_stats;
  if (isRec(links) && !('error' in links))
    for (const iface in links) {
      const l = links[iface];
      if (!isRec(l)) continue;
      if (typeof l.isup === 'boolean') add('net_up', l.isup ? 1 : 0, 'interface', iface);
      add('net_mtu_bytes', l.mtu, 'interface', iface);
      // Megabits per second; 0 or below when the driver does not say (virtual interfaces).
      const speed = num(l.speed);
      if (speed !== undefined && speed > 0)
        add('net_speed_bytes_per_second', speed * 125_000, 'interface', iface);
    }

  const sensors = doc.sensors;
  if (isRec(sensors)) {
    if (Array.isArray(sensors.Temperatures))
      for (const t of sensors.Temperatures)
        if (isRec(t) && typeof t.label === 'string')
          add('temperature_celsius', t.current, 'sensor', t.label);
    if (Array.isArray(sensors.Batteries))
      for (const b of sensors.Batteries)
        if (isRec(b)) add('battery_percent', b.percent, 'battery', String(b.id));
  }

  const processes = doc.processes;
  if (processes instanceof ProcessList) add('processes', processes.count);
  else if (Array.isArray(processes)) add('processes', processes.length);

  if (Array.isArray(doc.docker))
    for (const c of doc.docker) {
      if (!isRec(c) || typeof c.name !== 'string') continue;
      add('container_cpu_percent', c.cpu_percentage, 'container', c.name);
      add('container_memory_bytes', c.memory_used, 'container', c.name);
      add('container_memory_percent', c.memory_percentage, 'container', c.name);
      add('container_network_rx_bytes', c.network_rx, 'container', c.name);
      add('container_network_tx_bytes', c.network_tx, 'container', c.name);
    }

  const gpu = doc.gpu;
  if (isRec(gpu) && gpu.available === true && Array.isArray(gpu.devices))
    for (const g of gpu.devices) {
      if (!isRec(g)) continue;
      const id = String(g.index);
      add('gpu_utilization_percent', g.utilization_percent, 'gpu', id);
      add('gpu_memory_used_bytes', g.memory_used_bytes, 'gpu', id);
      add('gpu_memory_total_bytes', g.memory_total_bytes, 'gpu', id);
      add('gpu_temperature_celsius', g.temperature_celsius, 'gpu', id);
      add('gpu_power_watts', g.power_watts, 'gpu', id);
    }

  const conns = doc.net_connections;
  if (isRec(conns) && conns.available === true) {
    add('tcp_connections', conns.total);
    if (isRec(conns.tcp))
      for (const state in conns.tcp) add('tcp_connections', conns.tcp[state], 'state', state);
  }

  const smart = doc.smart;
  if (isRec(smart) && smart.available === true && Array.isArray(smart.disks))
    for (const d of smart.disks)
      if (isRec(d) && typeof d.device === 'string')
        add('smart_temperature_celsius', d.temperature_celsius, 'device', d.device);

  const checks = doc.customchecks;
  if (isRec(checks))
    for (const name in checks) {
      const c = checks[name];
      if (!isRec(c)) continue;
      add('check_state', c.rc, 'check', name);
      add('check_duration_seconds', c.duration_seconds, 'check', name);
      if (Array.isArray(c.perfdata))
        for (const p of c.perfdata)
          if (isRec(p) && typeof p.label === 'string')
            addKey(
              seriesKey('check_perfdata', [
                ['check', name],
                ['label', p.label],
              ]),
              p.value,
            );
    }

  return into.length;
}
