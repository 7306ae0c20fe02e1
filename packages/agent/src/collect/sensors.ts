import type { SourceTree } from '../host.js';
import type { Collector } from './collector.js';
import { round } from './numbers.js';

/** A millidegree sysfs value in °C, or undefined. */
function milli(text: string | undefined): number | undefined {
  const v = Number(text?.trim());
  return text !== undefined && text.trim() !== '' && Number.isFinite(v) ? v / 1000 : undefined;
}

/** A sensor label as gopsutil (and so openITCOCKPIT) forms it: `<chip>_<label>`, lowercase. */
function sensorLabel(chip: string, label: string | undefined): string {
  const l = label?.trim().toLowerCase().replace(/\s+/g, '_');
  return l ? `${chip}_${l}` : chip;
}

/** Temperatures from /sys/class/hwmon (`tempN_input`, `_max`, `_crit`, `_label`). */
export function hwmonTemperatures(sys: SourceTree) {
  const out = [];
  for (const hw of sys.list('class/hwmon').sort()) {
    const dir = `class/hwmon/${hw}`;
    const chip = (sys.tryRead(`${dir}/name`) ?? hw).trim();
    const files = sys.list(dir);
    const inputs = files
      .filter((f) => /^temp\d+_input$/.test(f))
      .sort((a, b) => parseInt(a.slice(4), 10) - parseInt(b.slice(4), 10));
    for (const input of inputs) {
      const base = input.slice(0, -'_input'.length);
      const current = milli(sys.tryRead(`${dir}/${input}`));
      if (current === undefined) continue;
      out.push({
        label: sensorLabel(chip, sys.tryRead(`${dir}/${base}_label`) ?? base),
        current: round(current),
        high: round(milli(sys.tryRead(`${dir}/${base}_max`)) ?? 0),
        critical: round(milli(sys.tryRead(`${dir}/${base}_crit`)) ?? 0),
      });
    }
  }
  return out;
}

/** Temperatures from /sys/class/thermal zones, for machines without hwmon. */
function thermalTemperatures(sys: SourceTree) {
  const out = [];
  for (const zone of sys
    .list('class/thermal')
    .filter((z) => z.startsWith('thermal_zone'))
    .sort()) {
    const current = milli(sys.tryRead(`class/thermal/${zone}/temp`));
    if (current === undefined) continue;
    const type = (sys.tryRead(`class/thermal/${zone}/type`) ?? zone).trim();
    out.push({
      label: sensorLabel(type, undefined),
      current: round(current),
      high: 0,
      critical: 0,
    });
  }
  return out;
}

/** Batteries from /sys/class/power_supply (type `Battery`). */
export function batteries(sys: SourceTree) {
  const out = [];
  let id = 0;
  for (const ps of sys.list('class/power_supply').sort()) {
    const attr = (n: string) => sys.tryRead(`class/power_supply/${ps}/${n}`)?.trim();
    if (attr('type') !== 'Battery') continue;
    const num = (n: string) => {
      const v = Number(attr(n));
      return Number.isFinite(v) ? v : undefined;
    };
    const now = num('energy_now') ?? num('charge_now');
    const full = num('energy_full') ?? num('charge_full');
    const capacity = num('capacity');
    const status = attr('status') ?? '';
    const rate = num('power_now') ?? num('current_now');
    const pct = now !== undefined && full ? (now / full) * 100 : (capacity ?? 0);
    const discharging = status === 'Discharging';
    out.push({
      id: id++,
      percent: round(Math.min(100, pct)),
      secsleft: discharging && rate && now !== undefined ? Math.round((now / rate) * 3600) : 0,
      power_plugged: status === 'Full' || status === 'Charging',
    });
  }
  return out;
}

/** `sensors`: temperatures (hwmon, else thermal zones) and batteries; empty lists when none. */
export const sensors = (): Collector<'sensors'> => ({
  key: 'sensors',
  toggle: 'sensorstats',
  async collect({ host }) {
    let temps = hwmonTemperatures(host.sys);
    if (temps.length === 0) temps = thermalTemperatures(host.sys);
    return { Temperatures: temps, Batteries: batteries(host.sys) };
  },
});
