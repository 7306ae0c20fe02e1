import type { PackageInventory } from '@vigil/protocol';
import { decodeCheckData, listOf, processesOf, type CheckDocument } from '@vigil/protocol/decode';
import { isRecord } from '@vigil/protocol/guards';

/** What the section reads ask telemetry. Declared where used. */
export interface SectionSource {
  /** The host a request names. @throws VigilError not_found (`host.not_found`). */
  resolveHost(q: { host_id: string }): Promise<{ id: string }>;
  /** The newest full document of a host's agents (JSON text), or undefined. */
  latestDocument(
    hostId: string,
  ): Promise<{ agent_id: string; collected_at: number; document: string } | undefined>;
  /** The newest package inventory of a host's agents (JSON text), or undefined. */
  inventoryOfHost(
    hostId: string,
  ): Promise<{ agent_id: string; received_at: number; inventory: string } | undefined>;
}

/** A number, or null when it is none (a finite one). */
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** A string, or null. */
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
/** An epoch-ms time as RFC 3339, or null. */
const time = (ms: unknown): string | null =>
  typeof ms === 'number' && Number.isFinite(ms) && ms > 0 && ms < 8.64e15
    ? new Date(ms).toISOString()
    : null;

/** A document stored as JSON text, decoded; one that cannot be read is an empty one. */
export function storedDocument(text: string): CheckDocument {
  try {
    return decodeCheckData(text)?.document ?? {};
  } catch {
    return {};
  }
}

/**
 * The sections of a host's newest document that the console lists (processes, containers,
 * systemd services) and its package inventory, each in the API's snake_case shape with null for
 * what the agent did not report.
 */
export function createSectionReader(deps: SectionSource) {
  /** The newest document of a host, decoded. @throws VigilError not_found */
  async function documentOf(hostId: string) {
    const host = await deps.resolveHost({ host_id: hostId });
    const row = await deps.latestDocument(host.id);
    return {
      agent_id: row?.agent_id ?? null,
      collected_at: row ? time(row.collected_at) : null,
      doc: row ? storedDocument(row.document) : ({} as CheckDocument),
    };
  }

  return {
    /** The processes of a host's newest document. */
    async processes(hostId: string) {
      const { doc, ...head } = await documentOf(hostId);
      const items = (processesOf(doc) ?? []).map((p) => {
        const extra = p as Record<string, unknown>;
        const status = Array.isArray(p.status) ? p.status.join(',') : null;
        return {
          pid: num(p.pid),
          ppid: num(p.ppid),
          name: str(p.name),
          user: str(p.username),
          status: status === '' ? null : status,
          cpu_percent: num(p.cpu_percent),
          memory_percent: num(p.memory_percent),
          rss_bytes: num(p.Memory?.rss ?? p.Memory?.working_set),
          vms_bytes: num(p.Memory?.vms ?? p.Memory?.private_bytes),
          threads: num(extra.threads),
          started_at: time(p.CreateTime),
          cmdline: str(p.cmdline),
        };
      });
      return { ...head, items };
    },

    /** The Docker containers of a host's newest document. */
    async containers(hostId: string) {
      const { doc, ...head } = await documentOf(hostId);
      const items = listOf(doc.docker).map((c) => ({
        id: str(c.id),
        name: str(c.name),
        image: str(c.image),
        state: str(c.state),
        status: str(c.status),
        cpu_percent: num(c.cpu_percentage),
        memory_used_bytes: num(c.memory_used),
        memory_percent: num(c.memory_percentage),
        network_rx_bytes: num(c.network_rx),
        network_tx_bytes: num(c.network_tx),
        disk_read_bytes: num(c.disk_read),
        disk_write_bytes: num(c.disk_write),
      }));
      return { ...head, items };
    },

    /** The systemd services of a host's newest document. */
    async services(hostId: string) {
      const { doc, ...head } = await documentOf(hostId);
      const items = listOf(doc.systemd_services).map((u) => {
        const extra = u as Record<string, unknown>;
        return {
          name: str(u.Name),
          description: str(u.Description),
          load_state: str(u.LoadState),
          active_state: str(u.ActiveState),
          sub_state: str(u.SubState),
          unit_file_state: str(extra.UnitFileState),
        };
      });
      return { ...head, items };
    },

    /**
     * The package inventory of a host: its summary, installed packages and pending updates,
     * filtered by a name substring (`q`, case-insensitive).
     */
    async packages(hostId: string, q?: string) {
      const host = await deps.resolveHost({ host_id: hostId });
      const row = await deps.inventoryOfHost(host.id);
      let inv: Partial<PackageInventory> = {};
      try {
        const v: unknown = row ? JSON.parse(row.inventory) : {};
        if (isRecord(v)) inv = v as Partial<PackageInventory>;
      } catch {
        // A damaged stored inventory reads as none.
      }
      const stats: Record<string, unknown> = isRecord(inv.Stats) ? inv.Stats : {};
      const needle = q?.toLowerCase();
      const wanted = (name: string | null) =>
        needle === undefined || (name ?? '').toLowerCase().includes(needle);
      const installed = (Array.isArray(inv.LinuxPackages) ? inv.LinuxPackages : [])
        .filter(isRecord)
        .map((p) => ({
          name: str(p.Name),
          version: str(p.Version),
          description: str(p.Description),
        }))
        .filter((p) => wanted(p.name));
      const updates = (Array.isArray(inv.LinuxUpdates) ? inv.LinuxUpdates : [])
        .filter(isRecord)
        .map((u) => ({
          name: str(u.Name),
          current_version: str(u.CurrentVersion),
          new_version: str(u.AvailableVersion),
          security: u.IsSecurityUpdate === true,
        }))
        .filter((u) => wanted(u.name));
      return {
        agent_id: row?.agent_id ?? null,
        received_at: row ? time(row.received_at) : null,
        summary: {
          installed: num(stats.InstalledPackages),
          upgradable: num(stats.UpgradablePackages),
          security_updates: num(stats.SecurityUpdates),
          reboot_required: typeof stats.RebootRequired === 'boolean' ? stats.RebootRequired : null,
          last_update: typeof inv.LastUpdate === 'number' ? time(inv.LastUpdate * 1000) : null,
        },
        installed,
        updates,
      };
    },
  };
}

/** The section reader. */
export type SectionReader = ReturnType<typeof createSectionReader>;
