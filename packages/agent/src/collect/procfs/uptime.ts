/** Parses /proc/uptime (`350735.47 234388.90`): seconds since boot, NaN when malformed. */
export function parseUptime(text: string): number {
  return Number(text.split(/\s+/)[0]);
}
