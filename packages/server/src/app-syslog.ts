import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import type { HostService } from './hosts/service.js';
import { createSyslogHostMatcher } from './logs/syslog/hosts.js';
import { syslogAddresses } from './logs/syslog/listen.js';
import { startSyslogListener, type SyslogListener } from './logs/syslog/listener.js';
import type { LogIngest } from './logs/model.js';

/** How long the syslog listener's view of the hosts is kept when nothing changes here. */
const HOSTS_REFRESH_MS = 60_000;

/**
 * Starts the syslog listener for app.ts when `[syslog] listen` names addresses (undefined when
 * it is empty): lines are stored through the log ingest and filed under the hosts service's
 * hosts, whose index is read again every minute and at once after a change of hosts made here
 * (`changes`).
 * @throws Error naming the address when one cannot be bound.
 */
export async function startSyslog(deps: {
  config: Config;
  ingest: LogIngest;
  hosts: Pick<HostService, 'listing'>;
  /** Subscribes to changes of hosts made in this process. */
  changes: (listener: () => void) => void;
  now: () => number;
  logger: Logger;
}): Promise<SyslogListener | undefined> {
  const s = deps.config.syslog;
  const addresses = syslogAddresses(s.listen);
  if (addresses.length === 0) return undefined;
  const hosts = createSyslogHostMatcher({
    directory: deps.hosts,
    refreshMs: HOSTS_REFRESH_MS,
    now: deps.now,
    log: (err, what) => deps.logger.warn({ err }, what),
  });
  deps.changes(() => hosts.invalidate());
  const listener = await startSyslogListener({
    addresses,
    sink: deps.ingest,
    hosts,
    limits: {
      maxConnections: s.max_connections,
      maxMessageBytes: s.max_message_bytes,
      idleTimeoutMs: s.idle_timeout_seconds * 1000,
      queueMaxLines: s.queue_max_lines,
      flushMs: 100,
      batchMax: 2_000,
    },
    now: deps.now,
    log: deps.logger,
  });
  deps.logger.info(
    {
      syslog: listener
        .addresses()
        .map((a) => `${a.protocol}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`),
    },
    'syslog listening',
  );
  return listener;
}
