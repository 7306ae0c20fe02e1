import { agentInfo } from './agent.js';
import type { Collector } from './collector.js';
import { cpu } from './cpu.js';
import { disks } from './disks.js';
import { diskio } from './diskio.js';
import { docker } from './docker.js';
import { gpu } from './gpu.js';
import { loadavg } from './loadavg.js';
import { memory, swap } from './memory.js';
import { netIo, netStats } from './net.js';
import { netConnections } from './nettcp.js';
import { ntp } from './ntp.js';
import { processes } from './processes.js';
import { sensors } from './sensors.js';
import { smart } from './smart.js';
import { systemdServices } from './systemd.js';
import { users } from './users.js';

/** Every collector, fresh (with empty rate state), in document order. */
export function allCollectors(): Collector[] {
  return [
    agentInfo(),
    cpu(),
    loadavg(),
    memory(),
    swap(),
    disks(),
    diskio(),
    netStats(),
    netIo(),
    sensors(),
    processes(),
    users(),
    ntp(),
    systemdServices(),
    docker(),
    gpu(),
    netConnections(),
    smart(),
  ];
}

/** The collectors that the configuration's switches leave on. */
export function enabledCollectors(toggles: Readonly<Record<string, boolean>>): Collector[] {
  return allCollectors().filter((c) => c.toggle === undefined || toggles[c.toggle] !== false);
}
