import type { Answer } from '../../api/types';
import { dateTime } from '../../ui/format';

/** One intelligence event: something that changed on a host. */
export type IntelEvent = Answer<'/api/v1/intelligence/events'>['events'][number];

/** The kind groups the changes timeline filters by: a label and the API's kind prefix. */
export const KIND_GROUPS = [
  { id: 'packages', label: 'Packages', prefix: 'package' },
  { id: 'kernel', label: 'Kernel', prefix: 'kernel' },
  { id: 'reboot', label: 'Reboots', prefix: 'host' },
  { id: 'ports', label: 'Listening ports', prefix: 'port' },
  { id: 'users', label: 'Users', prefix: 'user' },
  { id: 'units', label: 'Systemd units', prefix: 'unit' },
] as const;

/** Each kind's words and a mark (the mark is decoration; the words carry the meaning). */
export const KIND_LABELS: Record<IntelEvent['kind'], { label: string; icon: string }> = {
  'package.installed': { label: 'Package installed', icon: '＋' },
  'package.removed': { label: 'Package removed', icon: '－' },
  'package.upgraded': { label: 'Package upgraded', icon: '⇧' },
  'kernel.changed': { label: 'Kernel changed', icon: '⚙' },
  'host.rebooted': { label: 'Rebooted', icon: '↻' },
  'port.opened': { label: 'Port opened', icon: '◉' },
  'port.closed': { label: 'Port closed', icon: '○' },
  'user.added': { label: 'User added', icon: '☺' },
  'user.removed': { label: 'User removed', icon: '☹' },
  'unit.failed': { label: 'Unit failed', icon: '✗' },
  'unit.recovered': { label: 'Unit recovered', icon: '✓' },
};

const str = (v: unknown): string | null =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;

/** What an event's `detail` says, in words: `1.2 → 1.3`, `version 2.1`, `by sshd (pid 812)`. */
export function detailText(e: IntelEvent): string {
  const d = e.detail;
  switch (e.kind) {
    case 'kernel.changed':
    case 'package.upgraded': {
      const from = str(d.from);
      const to = str(d.to);
      return from || to ? `${from ?? '?'} → ${to ?? '?'}` : '';
    }
    case 'package.installed':
    case 'package.removed':
      return str(d.version) ? `version ${str(d.version)}` : '';
    case 'host.rebooted':
      return str(d.previous_boot_time)
        ? `previous boot ${dateTime(str(d.previous_boot_time))}`
        : '';
    case 'port.opened':
    case 'port.closed': {
      const process = str(d.process);
      const pid = str(d.pid);
      return process ? `by ${process}${pid ? ` (pid ${pid})` : ''}` : pid ? `by pid ${pid}` : '';
    }
    case 'user.added':
    case 'user.removed':
      return [str(d.uid) && `uid ${str(d.uid)}`, str(d.shell)].filter(Boolean).join(', ');
    case 'unit.failed':
      return str(d.sub_state) ? `state ${str(d.sub_state)}` : '';
    case 'unit.recovered':
      return d.active_state === null
        ? 'the unit is gone'
        : str(d.active_state)
          ? `now ${str(d.active_state)}`
          : '';
    default:
      return '';
  }
}

/**
 * The subject as people read it: a reboot's subject is its boot time; a kernel change's is the
 * new version, which its detail (`from → to`) already says, so it has none of its own.
 */
export function subjectText(e: IntelEvent): string {
  if (e.kind === 'kernel.changed') return '';
  return e.kind === 'host.rebooted' ? `booted ${dateTime(e.subject)}` : e.subject;
}
