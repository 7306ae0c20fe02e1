/** TCP states by the hex code /proc/net/tcp uses (include/net/tcp_states.h). */
export const TCP_STATES: Record<string, string> = {
  '01': 'established',
  '02': 'syn_sent',
  '03': 'syn_recv',
  '04': 'fin_wait1',
  '05': 'fin_wait2',
  '06': 'time_wait',
  '07': 'close',
  '08': 'close_wait',
  '09': 'last_ack',
  '0A': 'listen',
  '0B': 'closing',
  '0C': 'new_syn_recv',
};

/** Adds the connections of one /proc/net/tcp or tcp6 file to `counts`, by state name. */
export function countTcpStates(text: string, counts: Record<string, number>): void {
  const rows = text.split('\n');
  for (let i = 1; i < rows.length; i++) {
    const f = rows[i]!.trim().split(/\s+/);
    if (f.length < 4) continue;
    const state = TCP_STATES[f[3]!.toUpperCase()];
    if (state) counts[state] = (counts[state] ?? 0) + 1;
  }
}
