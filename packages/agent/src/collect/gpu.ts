import type { Host } from '../host.js';
import type { Collector } from './collector.js';
import { round } from './numbers.js';

/** The nvidia-smi query fields, in the order the CSV columns come back. */
export const NVIDIA_FIELDS = [
  'index',
  'name',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
] as const;

/** A CSV cell as a number, or null for `[N/A]`, `[Not Supported]` and the like. */
function cell(text: string | undefined): number | null {
  const v = Number((text ?? '').trim());
  return (text ?? '').trim() !== '' && Number.isFinite(v) ? v : null;
}

/** Parses `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` (MiB, °C, W, %). */
export function parseNvidiaSmi(text: string) {
  const out = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.split(',').map((s) => s.trim());
    if (f.length < NVIDIA_FIELDS.length)
      throw new Error(`nvidia-smi: short line ${JSON.stringify(line)}`);
    const mib = (s: string | undefined) => {
      const v = cell(s);
      return v === null ? null : v * 1024 * 1024;
    };
    out.push({
      index: Number(f[0]),
      name: f[1]!,
      vendor: 'nvidia',
      utilization_percent: cell(f[2]),
      memory_used_bytes: mib(f[3]),
      memory_total_bytes: mib(f[4]),
      temperature_celsius: cell(f[5]),
      power_watts: cell(f[6]),
    });
  }
  return out;
}

/** AMD GPUs from /sys/class/drm/cardN/device (amdgpu): busy %, VRAM, hwmon temperature and power. */
export function amdGpus(host: Host) {
  const out = [];
  const cards = host.sys
    .list('class/drm')
    .filter((c) => /^card\d+$/.test(c))
    .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  for (const card of cards) {
    const dev = `class/drm/${card}/device`;
    const busy = host.sys.tryRead(`${dev}/gpu_busy_percent`);
    if (busy === undefined) continue;
    const num = (rel: string) => cell(host.sys.tryRead(`${dev}/${rel}`));
    const hwmon = host.sys.list(`${dev}/hwmon`)[0];
    const temp = hwmon ? num(`hwmon/${hwmon}/temp1_input`) : null;
    const power = hwmon
      ? (num(`hwmon/${hwmon}/power1_average`) ?? num(`hwmon/${hwmon}/power1_input`))
      : null;
    const product = host.sys.tryRead(`${dev}/product_name`)?.trim();
    out.push({
      index: Number(card.slice(4)),
      name: product || `AMD GPU ${card}`,
      vendor: 'amd',
      utilization_percent: cell(busy),
      memory_used_bytes: num('mem_info_vram_used'),
      memory_total_bytes: num('mem_info_vram_total'),
      temperature_celsius: temp === null ? null : round(temp / 1000),
      power_watts: power === null ? null : round(power / 1e6),
    });
  }
  return out;
}

/**
 * `gpu` (Vigil): NVIDIA GPUs through `nvidia-smi` (the driver offers no files), AMD GPUs through
 * sysfs. `{"available": false}` when the machine has neither.
 */
export const gpu = (): Collector<'gpu'> => ({
  key: 'gpu',
  toggle: 'gpustats',
  async collect({ host }) {
    const devices = [];
    const hasNvidia =
      host.rootfs.tryRead('proc/driver/nvidia/version') !== undefined ||
      host.proc.tryRead('driver/nvidia/version') !== undefined;
    if (hasNvidia) {
      const out = await host.exec('nvidia-smi', [
        `--query-gpu=${NVIDIA_FIELDS.join(',')}`,
        '--format=csv,noheader,nounits',
      ]);
      devices.push(...parseNvidiaSmi(out));
    }
    devices.push(...amdGpus(host));
    if (devices.length === 0) return { available: false, reason: 'no NVIDIA or AMD GPU found' };
    return { available: true, devices };
  },
});
