import http from 'node:http';
import type { Collector } from './collector.js';
import { round } from './numbers.js';

/** The Docker Engine API socket. */
export const DOCKER_SOCKET = '/var/run/docker.sock';

/** GETs a Docker Engine API path over the unix socket and parses the JSON answer. */
function dockerGet(socketPath: string, path: string, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300)
          return reject(new Error(`docker ${path}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(body));
        } catch {
          reject(new Error(`docker ${path}: invalid JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`docker ${path}: timed out`)));
    req.on('error', reject);
  });
}

interface DockerStats {
  cpu_stats?: {
    cpu_usage?: { total_usage?: number };
    system_cpu_usage?: number;
    online_cpus?: number;
  };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
}

/** One container's figures from a one-shot stats answer, with docker-cli's formulas. */
export function containerFigures(s: DockerStats) {
  const cpuDelta =
    (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats?.online_cpus ?? 1;
  const cpu = cpuDelta > 0 && sysDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const usage = s.memory_stats?.usage ?? 0;
  const stats = s.memory_stats?.stats ?? {};
  const inactive = stats.total_inactive_file ?? stats.inactive_file ?? 0;
  const used = inactive < usage ? usage - inactive : usage;
  const limit = s.memory_stats?.limit ?? 0;
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op.startsWith('r')) read += e.value ?? 0;
    else if (op.startsWith('w')) write += e.value ?? 0;
  }
  return {
    cpu_percentage: round(cpu),
    memory_used: used,
    memory_percentage: round(limit > 0 ? (used / limit) * 100 : 0),
    network_rx: rx,
    network_tx: tx,
    disk_read: read,
    disk_write: write,
  };
}

/**
 * `docker` (off by default, `dockerstats`): the running containers from the Docker Engine API with
 * their CPU, memory, network and block I/O figures. Without a Docker socket the key is left out.
 */
export const docker = (socketPath = DOCKER_SOCKET): Collector<'docker'> => ({
  key: 'docker',
  toggle: 'dockerstats',
  async collect() {
    let list: unknown;
    try {
      list = await dockerGet(socketPath, '/containers/json');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ECONNREFUSED') return undefined;
      throw err;
    }
    const containers = list as {
      Id: string;
      Names?: string[];
      Image: string;
      State: string;
      Status: string;
    }[];
    return Promise.all(
      containers.map(async (c) => {
        let figures = containerFigures({});
        try {
          figures = containerFigures(
            (await dockerGet(socketPath, `/containers/${c.Id}/stats?stream=false`)) as DockerStats,
          );
        } catch {
          // The container stopped in between; report it without figures.
        }
        return {
          id: c.Id.slice(0, 10),
          name: c.Names?.[0] ?? '',
          image: c.Image,
          state: c.State,
          status: c.Status,
          ...figures,
        };
      }),
    );
  },
});
