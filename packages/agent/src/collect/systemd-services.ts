import type { Collector } from './collector.js';

/** One unit as `systemctl list-units --output=json` prints it. */
interface SystemctlUnit {
  unit?: string;
  load?: string;
  active?: string;
  sub?: string;
  description?: string;
}

/** Parses `systemctl list-units --all --output=json` into openITCOCKPIT's `systemd_services`. */
export function parseSystemctlJson(text: string) {
  const units = JSON.parse(text) as SystemctlUnit[];
  if (!Array.isArray(units)) throw new Error('systemctl printed no list');
  return units
    .filter((u) => typeof u.unit === 'string')
    .map((u) => ({
      Name: u.unit!,
      Description: u.description ?? '',
      LoadState: u.load ?? '',
      ActiveState: u.active ?? '',
      SubState: u.sub ?? '',
    }));
}

/**
 * `systemd_services`: every loaded unit with its load, active and sub state, as the
 * openITCOCKPIT agent lists them. The unit list lives in systemd's memory, not in a file, so this
 * asks `systemctl` (as the D-Bus API would). On a machine not booted with systemd the list is
 * empty.
 */
export const systemdServices = (): Collector<'systemd_services'> => ({
  key: 'systemd_services',
  toggle: 'systemdservices',
  async collect({ host }) {
    // systemd creates /run/systemd/system when it is the init system (sd_booted()).
    if (!host.rootfs.list('run/systemd').includes('system')) return [];
    const out = await host.exec('systemctl', [
      'list-units',
      '--all',
      '--output=json',
      '--no-pager',
      '--plain',
    ]);
    return parseSystemctlJson(out);
  },
});
