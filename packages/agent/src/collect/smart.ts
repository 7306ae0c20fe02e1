import type { Collected } from '@vigil/protocol';
import type { CollectContext, Collector } from './collector.js';

/** What smartctl --json prints that `smart` uses. */
interface SmartctlJson {
  device?: { name?: string };
  model_name?: string;
  serial_number?: string;
  smart_status?: { passed?: boolean };
  temperature?: { current?: number };
  power_on_time?: { hours?: number };
}

/** One disk's health from `smartctl --json --health --info --attributes`. */
export function parseSmartctl(text: string, device: string) {
  const j = JSON.parse(text) as SmartctlJson;
  return {
    device: j.device?.name ?? device,
    model: j.model_name ?? '',
    serial: j.serial_number ?? '',
    passed: typeof j.smart_status?.passed === 'boolean' ? j.smart_status.passed : null,
    temperature_celsius: typeof j.temperature?.current === 'number' ? j.temperature.current : null,
    power_on_hours: typeof j.power_on_time?.hours === 'number' ? j.power_on_time.hours : null,
  };
}

/** How long a SMART reading is reused: disk health changes over hours, and each read forks smartctl. */
export const SMART_REFRESH_MS = 10 * 60_000;

/**
 * `smart` (Vigil): disk health from smartctl (smartmontools) for each whole disk in
 * /sys/block, read at most every `SMART_REFRESH_MS` (the document repeats the last reading in
 * between). Reading SMART data needs root (or CAP_SYS_RAWIO); `{"available": false}` when
 * smartctl is not installed.
 */
export const smart = (): Collector<'smart'> => {
  let last: { atMs: number; value: Collected<'smart'> } | undefined;
  return {
    key: 'smart',
    toggle: 'smartstats',
    async collect(ctx) {
      if (last && ctx.nowMs - last.atMs < SMART_REFRESH_MS && ctx.nowMs >= last.atMs)
        return last.value;
      const value = await readSmart(ctx);
      last = { atMs: ctx.nowMs, value };
      return value;
    },
  };
};

/** Asks smartctl about every whole disk. */
async function readSmart({ host }: CollectContext): Promise<Collected<'smart'>> {
  {
    const disks = host.sys
      .list('block')
      .filter((d) => /^(sd[a-z]+|nvme\d+n\d+|hd[a-z]+|vd[a-z]+)$/.test(d))
      .sort();
    const out = [];
    for (const d of disks) {
      let text: string;
      try {
        text = await host.exec('smartctl', [
          '--json',
          '--health',
          '--info',
          '--attributes',
          `/dev/${d}`,
        ]);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { stdout?: string };
        if (e.code === 'ENOENT') return { available: false, reason: 'smartctl is not installed' };
        // smartctl exits non-zero for failing disks and for devices without SMART; its JSON still
        // says which.
        text = e.stdout ?? '';
        if (text === '') continue;
      }
      try {
        out.push(parseSmartctl(text, `/dev/${d}`));
      } catch {
        // Not JSON: a device smartctl cannot talk to.
      }
    }
    return { available: true, disks: out };
  }
}
