import type { ProcessEntry } from '@vigil/protocol';
import {
  fieldsOf,
  listOf,
  processesOf,
  sectionOf,
  type CheckDocument,
} from '@vigil/protocol/decode';
import { isoOrNull } from '../../telemetry/iso-time.js';

/**
 * Tyto's metrics structure (`GET /api/v1/stream`, `event: metrics`) from a check-data document.
 * The document is decoded: a field is of its type or absent, which Tyto's shape sends as null.
 */

/** How many processes each of `topByCpu` and `topByMemory` lists. */
const TOP = 10;

/** Builds Tyto's metrics object for one document of an agent. */
export function tytoMetrics(
  doc: CheckDocument,
  meta: { agentId: string; hostId: string; collectedAt: number },
): Record<string, unknown> {
  const agent = fieldsOf(doc.agent);
  const cpu = fieldsOf(doc.cpu);
  const load = fieldsOf(doc.system_load);
  const mem = fieldsOf(doc.memory);
  const swap = fieldsOf(doc.swap);
  const io = sectionOf(doc.disk_io) ?? {};
  const netIo = sectionOf(doc.net_io) ?? {};
  const conns = sectionOf(doc.net_connections);
  const sensors = fieldsOf(doc.sensors);
  const gpu = sectionOf(doc.gpu);
  const processes = processesOf(doc) ?? [];
  const proc = (p: ProcessEntry) => ({
    pid: p.pid ?? null,
    name: p.name ?? null,
    user: p.username ?? null,
    cpu: p.cpu_percent ?? null,
    memory: p.Memory?.rss ?? null,
    memoryPercent: p.memory_percent ?? null,
  });
  const top = (key: (p: ProcessEntry) => number) =>
    [...processes]
      .sort((a, b) => key(b) - key(a))
      .slice(0, TOP)
      .map(proc);
  return {
    timestamp: isoOrNull(meta.collectedAt),
    agent_id: meta.agentId,
    host_id: meta.hostId,
    system: {
      hostname: agent.hostname ?? null,
      kernel: agent.kernel_version ?? null,
      uptime: agent.system_uptime ?? null,
      architecture: agent.goarch ?? null,
      os: agent.system ?? null,
    },
    cpu: {
      cores: listOf(cpu.cpu_percentage).map((usage, id) => ({ id, usage, frequency: null })),
      totalUsage: cpu.cpu_total_percentage ?? null,
      loadAverage: { one: load['0'] ?? null, five: load['1'] ?? null, fifteen: load['2'] ?? null },
    },
    memory: {
      total: mem.total ?? null,
      used: mem.used ?? null,
      free: mem.free ?? null,
      available: mem.available ?? null,
      buffers: mem.buffers ?? null,
      cached: mem.cached ?? null,
      swapTotal: swap.total ?? null,
      swapUsed: swap.used ?? null,
    },
    disk: {
      mounts: listOf(doc.disks).map(({ disk = {}, usage = {} }) => ({
        device: disk.device ?? null,
        mountpoint: disk.mountpoint ?? null,
        fstype: disk.fstype ?? null,
        total: usage.total ?? null,
        used: usage.used ?? null,
        free: usage.free ?? null,
      })),
      io: Object.entries(io).map(([device, d]) => ({
        device,
        readBytes: d.ReadBytes ?? null,
        writeBytes: d.WriteBytes ?? null,
        readRate: d.ReadBytesPerSecond ?? null,
        writeRate: d.WriteBytesPerSecond ?? null,
      })),
    },
    network: {
      interfaces: Object.entries(netIo).map(([name, d]) => ({
        name,
        ipv4: null,
        ipv6: null,
        rxBytes: d.bytes_recv ?? null,
        txBytes: d.bytes_sent ?? null,
        rxRate: d.avg_bytes_recv_ps ?? null,
        txRate: d.avg_bytes_sent_ps ?? null,
      })),
      connectionCount: conns?.available === true ? (conns.total ?? null) : null,
    },
    processes: {
      topByCpu: top((p) => p.cpu_percent ?? 0),
      topByMemory: top((p) => p.Memory?.rss ?? 0),
      total: processes.length,
    },
    temperature: {
      sensors: listOf(sensors.Temperatures).map((t) => ({
        name: t.label ?? null,
        value: t.current ?? null,
        high: t.high ?? null,
        critical: t.critical ?? null,
      })),
    },
    gpu: {
      available: gpu?.available === true,
      gpus: (gpu?.available === true ? listOf(gpu.devices) : []).map((g) => ({
        index: g.index ?? null,
        name: g.name ?? null,
        vendor: g.vendor ?? null,
        utilization: g.utilization_percent ?? null,
        memoryUsed: g.memory_used_bytes ?? null,
        memoryTotal: g.memory_total_bytes ?? null,
        temperature: g.temperature_celsius ?? null,
        powerWatts: g.power_watts ?? null,
      })),
    },
    docker: {
      available: Array.isArray(doc.docker),
      containers: listOf(doc.docker).map((c) => ({
        id: c.id ?? null,
        name: c.name ?? null,
        status: c.status ?? null,
        cpu: c.cpu_percentage ?? null,
        memory: c.memory_used ?? null,
      })),
    },
    systemd: {
      available: Array.isArray(doc.systemd_services),
      services: listOf(doc.systemd_services).map((u) => ({
        name: u.Name ?? null,
        state: u.ActiveState ?? null,
        subState: u.SubState ?? null,
      })),
    },
  };
}
