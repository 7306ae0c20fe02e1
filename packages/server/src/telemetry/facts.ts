import { isRecord as isRec } from '@vigil/protocol/guards';
import { isoOrNull } from './iso-time.js';

/** The latest system facts of a host (OpenWatch's `system-info`), from its newest document. */

type Rec = Record<string, unknown>;
const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Builds the system-info answer from a check-data document. */
export function systemFacts(
  doc: Rec,
  meta: { hostId: string; agentId: string; collectedAt: number; receivedAt: number },
): Rec {
  const agent = isRec(doc.agent) ? doc.agent : {};
  const cpu = isRec(doc.cpu) ? doc.cpu : {};
  const mem = isRec(doc.memory) ? doc.memory : {};
  const swap = isRec(doc.swap) ? doc.swap : {};
  const pkgs = isRec(doc.packagemanager) ? doc.packagemanager : {};
  const stats = isRec(pkgs.Stats) ? pkgs.Stats : {};
  const netStats = isRec(doc.net_stats) ? doc.net_stats : {};
  const services = Array.isArray(doc.systemd_services) ? doc.systemd_services.filter(isRec) : [];
  return {
    host_id: meta.hostId,
    agent_id: meta.agentId,
    // Null when the stored time is none a Date can hold.
    collected_at: isoOrNull(meta.collectedAt),
    received_at: isoOrNull(meta.receivedAt),
    hostname: s(agent.hostname),
    os: {
      name: s(agent.system),
      family: s(agent.family),
      version: s(agent.mac_version),
      kernel: s(agent.kernel_version),
      architecture: s(agent.goarch),
    },
    uptime_seconds: n(agent.system_uptime),
    agent_version: s(agent.agent_version),
    cpu: { cores: Array.isArray(cpu.cpu_percentage) ? cpu.cpu_percentage.length : null },
    memory: { total_bytes: n(mem.total), swap_total_bytes: n(swap.total) },
    disks: (Array.isArray(doc.disks) ? doc.disks : []).filter(isRec).map((d) => {
      const disk = isRec(d.disk) ? d.disk : {};
      const usage = isRec(d.usage) ? d.usage : {};
      return {
        device: s(disk.device),
        mountpoint: s(disk.mountpoint),
        fstype: s(disk.fstype),
        total_bytes: n(usage.total),
        used_percent: n(usage.percent),
      };
    }),
    interfaces: Object.entries(netStats)
      .filter(([, v]) => isRec(v))
      .map(([name, v]) => ({
        name,
        up: (v as Rec).isup === true,
        speed_mbps: n((v as Rec).speed),
        mtu: n((v as Rec).mtu),
      })),
    packages: {
      installed: n(stats.InstalledPackages),
      upgradable: n(stats.UpgradablePackages),
      security_updates: n(stats.SecurityUpdates),
      reboot_required: typeof stats.RebootRequired === 'boolean' ? stats.RebootRequired : null,
      last_update: n(pkgs.LastUpdate),
    },
    services: {
      total: services.length,
      failed: services.filter((u) => u.ActiveState === 'failed').map((u) => s(u.Name)),
    },
  };
}
