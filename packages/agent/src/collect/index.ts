import { accounts } from './accounts.js';
import { agent } from './agent.js';
import type { AnyCollector } from './collector.js';
import { cpu } from './cpu.js';
import { diskIo } from './disk-io.js';
import { disks } from './disks.js';
import { docker } from './docker.js';
import { gpu } from './gpu.js';
import { listeningPorts } from './listening-ports.js';
import { memory } from './memory.js';
import { netConnections } from './net-connections.js';
import { netIo } from './net-io.js';
import { netStats } from './net-stats.js';
import { ntp } from './ntp.js';
import { processes } from './processes.js';
import { sensors } from './sensors.js';
import { smart } from './smart.js';
import { swap } from './swap.js';
import { systemLoad } from './system-load.js';
import { systemdServices } from './systemd-services.js';
import { users } from './users.js';

/** Every collector, fresh (with empty rate state), in document order. */
export function allCollectors(): AnyCollector[] {
  return [
    agent(),
    cpu(),
    systemLoad(),
    memory(),
    swap(),
    disks(),
    diskIo(),
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
    listeningPorts(),
    accounts(),
  ];
}

/** The collectors that the configuration's switches leave on. */
export function enabledCollectors(toggles: Readonly<Record<string, boolean>>): AnyCollector[] {
  return allCollectors().filter((c) => c.toggle === undefined || toggles[c.toggle] !== false);
}
