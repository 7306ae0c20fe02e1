import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { fieldsOf, listOf, sectionOf, type CheckDocument } from '@vigil/protocol/decode';
import { isoOrNull } from '../../telemetry/iso-time.js';

/**
 * The latest system facts of a host (OpenWatch's `system-info`), from its newest document. The
 * document is decoded: a field is of its type or absent, which the answer sends as null.
 */

const OrNull = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Str = OrNull(Type.String());
const Num = OrNull(Type.Number());

/** The system-info answer (`GET /api/v1/hosts/{id}/system-info`): null where unknown. */
export const SystemInfo = Type.Object(
  {
    host_id: Type.String(),
    source: Type.Optional(
      Type.Union([Type.Literal('agent'), Type.Literal('discovery')], {
        description:
          "agent: the host's newest agent document; discovery: agentless discovery, for a host with no agent document.",
      }),
    ),
    agent_id: OrNull(Type.String({ description: 'null for facts from agentless discovery.' })),
    collected_at: OrNull(Type.String({ format: 'date-time' })),
    received_at: OrNull(Type.String({ format: 'date-time' })),
    hostname: Str,
    os: Type.Object({ name: Str, family: Str, version: Str, kernel: Str, architecture: Str }),
    uptime_seconds: Num,
    agent_version: Str,
    cpu: Type.Object({ cores: Num }),
    memory: Type.Object({ total_bytes: Num, swap_total_bytes: Num }),
    disks: Type.Array(
      Type.Object({
        device: Str,
        mountpoint: Str,
        fstype: Str,
        total_bytes: Num,
        used_percent: Num,
      }),
    ),
    interfaces: Type.Array(
      Type.Object({
        name: Type.String(),
        up: Type.Boolean(),
        speed_mbps: Num,
        mtu: Num,
        addresses: Type.Optional(
          Type.Array(Type.String(), { description: 'From agentless discovery: CIDR addresses.' }),
        ),
      }),
    ),
    packages: Type.Object({
      installed: Num,
      upgradable: Num,
      security_updates: Num,
      reboot_required: OrNull(Type.Boolean()),
      last_update: Num,
    }),
    services: Type.Object({ total: Type.Integer(), failed: Type.Array(Str) }),
  },
  { title: 'SystemInfo' },
);
/** The system-info answer. */
export type SystemInfo = Static<typeof SystemInfo>;

/** Builds the system-info answer from a check-data document. */
export function systemFacts(
  doc: CheckDocument,
  meta: { hostId: string; agentId: string; collectedAt: number; receivedAt: number },
): SystemInfo {
  const agent = fieldsOf(doc.agent);
  const cpu = fieldsOf(doc.cpu);
  const mem = fieldsOf(doc.memory);
  const swap = fieldsOf(doc.swap);
  // The summary of an enabled inventory has `Stats`; openITCOCKPIT's lowercase form of a
  // disabled one has none.
  const pkgs = doc.packagemanager && 'enabled' in doc.packagemanager ? {} : doc.packagemanager;
  const stats = pkgs?.Stats ?? {};
  const netStats = sectionOf(doc.net_stats) ?? {};
  const services = listOf(doc.systemd_services);
  return {
    host_id: meta.hostId,
    source: 'agent',
    agent_id: meta.agentId,
    // Null when the stored time is none a Date can hold.
    collected_at: isoOrNull(meta.collectedAt),
    received_at: isoOrNull(meta.receivedAt),
    hostname: agent.hostname ?? null,
    os: {
      name: agent.system ?? null,
      family: agent.family ?? null,
      version: agent.mac_version ?? null,
      kernel: agent.kernel_version ?? null,
      architecture: agent.goarch ?? null,
    },
    uptime_seconds: agent.system_uptime ?? null,
    agent_version: agent.agent_version ?? null,
    cpu: { cores: Array.isArray(cpu.cpu_percentage) ? cpu.cpu_percentage.length : null },
    memory: { total_bytes: mem.total ?? null, swap_total_bytes: swap.total ?? null },
    disks: listOf(doc.disks).map(({ disk = {}, usage = {} }) => ({
      device: disk.device ?? null,
      mountpoint: disk.mountpoint ?? null,
      fstype: disk.fstype ?? null,
      total_bytes: usage.total ?? null,
      used_percent: usage.percent ?? null,
    })),
    interfaces: Object.entries(netStats).map(([name, v]) => ({
      name,
      up: v.isup === true,
      speed_mbps: v.speed ?? null,
      mtu: v.mtu ?? null,
    })),
    packages: {
      installed: stats.InstalledPackages ?? null,
      upgradable: stats.UpgradablePackages ?? null,
      security_updates: stats.SecurityUpdates ?? null,
      reboot_required: stats.RebootRequired ?? null,
      last_update: pkgs?.LastUpdate ?? null,
    },
    services: {
      total: services.length,
      failed: services.filter((u) => u.ActiveState === 'failed').map((u) => u.Name ?? null),
    },
  };
}

/** What agentless discovery found on a host, as the face reads it. */
export interface DiscoveredSystem {
  discovered_at: number;
  hostname: string;
  facts: {
    os: SystemInfo['os'];
    cpu: { cores: number | null };
    memory: { total_bytes: number | null; swap_total_bytes: number | null };
    disks: SystemInfo['disks'];
    interfaces: { name: string; addresses: string[] }[];
  };
}

/**
 * The system-info answer from agentless discovery, for a host with no agent document: what the
 * fixed commands tell (os-release, uname, nproc, meminfo, df, ip addr), null for the rest. An
 * interface is `up` when it has an address: `ip -o addr` lists no link state.
 */
export function discoveredSystemFacts(hostId: string, d: DiscoveredSystem): SystemInfo {
  const at = isoOrNull(d.discovered_at);
  return {
    host_id: hostId,
    source: 'discovery',
    agent_id: null,
    collected_at: at,
    received_at: at,
    hostname: d.hostname,
    os: d.facts.os,
    uptime_seconds: null,
    agent_version: null,
    cpu: { cores: d.facts.cpu.cores },
    memory: d.facts.memory,
    disks: d.facts.disks,
    interfaces: d.facts.interfaces.map((i) => ({
      name: i.name,
      up: i.addresses.length > 0,
      speed_mbps: null,
      mtu: null,
      addresses: i.addresses,
    })),
    packages: {
      installed: null,
      upgradable: null,
      security_updates: null,
      reboot_required: null,
      last_update: null,
    },
    services: { total: 0, failed: [] },
  };
}
