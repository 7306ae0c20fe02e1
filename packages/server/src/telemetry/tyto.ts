import { isRecord as isRec } from '@vigil/protocol/guards';
import { isoOrNull } from './iso-time.js';
import { processesOf } from './process-list.js';

/**
 * Tyto's metrics structure (`GET /api/v1/stream`, `event: metrics`) from a check-data document.
 * One function, so that the stream and the export speak the same shape.
 */

type Rec = Record<string, unknown>;
const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** How many processes each of `topByCpu` and `topByMemory` lists. */
const TOP = 10;

/** Builds Tyto's metrics object for one document of an agent. */
export function tytoMetrics(
  doc: Rec,
  meta: { agentId: string; hostId: string; collectedAt: number },
): Rec {
  const agent = isRec(doc.agent) ? doc.agent : {};
  const cpu = isRec(doc.cpu) ? doc.cpu : {};
  const load = isRec(doc.system_load) ? doc.system_load : {};
  const mem = isRec(doc.memory) ? doc.memory : {};
  const swap = isRec(doc.swap) ? doc.swap : {};
  const io = isRec(doc.disk_io) && !('error' in doc.disk_io) ? doc.disk_io : {};
  const netIo = isRec(doc.net_io) && !('error' in doc.net_io) ? doc.net_io : {};
  const conns = isRec(doc.net_connections) ? doc.net_connections : {};
  const sensors = isRec(doc.sensors) ? doc.sensors : {};
  const gpu = isRec(doc.gpu) ? doc.gpu : {};
  const processes = arr(processesOf(doc)).filter(isRec);
  const proc = (p: Rec) => ({
    pid: n(p.pid),
    name: s(p.name),
    user: s(p.username),
    cpu: n(p.cpu_percent),
    memory: isRec(p.Memory) ? n(p.Memory.rss) : null,
    memoryPercent: n(p.memory_percent),
  });
  const top = (key: (p: Rec) => number) =>
    [...processes]
      .sort((a, b) => key(b) - key(a))
      .slice(0, TOP)
      .map(proc);
  return {
    timestamp: isoOrNull(meta.collectedAt),
    agent_id: meta.agentId,
    host_id: meta.hostId,
    system: {
      hostname: s(agent.hostname),
      kernel: s(agent.kernel_version),
      uptime: n(agent.system_uptime),
      architecture: s(agent.goarch),
      os: s(agent.system),
    },
    cpu: {
      cores: arr(cpu.cpu_percentage).map((u, id) => ({ id, usage: n(u), frequency: null })),
      totalUsage: n(cpu.cpu_total_percentage),
      loadAverage: { one: n(load['0']), five: n(load['1']), fifteen: n(load['2']) },
    },
    memory: {
      total: n(mem.total),
      used: n(mem.used),
      free: n(mem.free),
      available: n(mem.available),
      buffers: n(mem.buffers),
      cached: n(mem.cached),
      swapTotal: n(swap.total),
      swapUsed: n(swap.used),
    },
    disk: {
      mounts: arr(doc.disks)
        .filter(isRec)
        .map((d) => {
          const disk = isRec(d.disk) ? d.disk : {};
          const usage = isRec(d.usage) ? d.usage : {};
          return {
            device: s(disk.device),
            mountpoint: s(disk.mountpoint),
            fstype: s(disk.fstype),
            total: n(usage.total),
            used: n(usage.used),
            free: n(usage.free),
          };
        }),
      io: Object.entries(io)
        .filter(([, d]) => isRec(d))
        .map(([device, d]) => ({
          device,
          readBytes: n((d as Rec).ReadBytes),
          writeBytes: n((d as Rec).WriteBytes),
          readRate: n((d as Rec).ReadBytesPerSecond),
          writeRate: n((d as Rec).WriteBytesPerSecond),
        })),
    },
    network: {
      interfaces: Object.entries(netIo)
        .filter(([, d]) => isRec(d))
        .map(([name, d]) => ({
          name,
          ipv4: null,
          ipv6: null,
          rxBytes: n((d as Rec).bytes_recv),
          txBytes: n((d as Rec).bytes_sent),
          rxRate: n((d as Rec).avg_bytes_recv_ps),
          txRate: n((d as Rec).avg_bytes_sent_ps),
        })),
      connectionCount: n(conns.total),
    },
    processes: {
      topByCpu: top((p) => n(p.cpu_percent) ?? 0),
      topByMemory: top((p) => (isRec(p.Memory) ? (n(p.Memory.rss) ?? 0) : 0)),
      total: processes.length,
    },
    temperature: {
      sensors: arr(sensors.Temperatures)
        .filter(isRec)
        .map((t) => ({
          name: s(t.label),
          value: n(t.current),
          high: n(t.high),
          critical: n(t.critical),
        })),
    },
    gpu: {
      available: gpu.available === true,
      gpus: arr(gpu.devices)
        .filter(isRec)
        .map((g) => ({
          index: n(g.index),
          name: s(g.name),
          vendor: s(g.vendor),
          utilization: n(g.utilization_percent),
          memoryUsed: n(g.memory_used_bytes),
          memoryTotal: n(g.memory_total_bytes),
          temperature: n(g.temperature_celsius),
          powerWatts: n(g.power_watts),
        })),
    },
    docker: {
      available: Array.isArray(doc.docker),
      containers: arr(doc.docker)
        .filter(isRec)
        .map((c) => ({
          id: s(c.id),
          name: s(c.name),
          status: s(c.status),
          cpu: n(c.cpu_percentage),
          memory: n(c.memory_used),
        })),
    },
    systemd: {
      available: Array.isArray(doc.systemd_services),
      services: arr(doc.systemd_services)
        .filter(isRec)
        .map((u) => ({ name: s(u.Name), state: s(u.ActiveState), subState: s(u.SubState) })),
    },
  };
}
