import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CustomCheckResult, PackageInventory } from '@vigil/protocol';
import { parseCustomChecks, type CustomChecksConfig } from './checks/config.js';
import {
  DEPLOYED_CHECKS_FILE,
  startRemoteChecks,
  type RemoteChecksSettings,
} from './checks/remote.js';
import { startChecks, type CheckScheduler } from './checks/scheduler.js';
import { startCompliance } from './compliance/index.js';
import { runCollectors, type AnyCollector, type CollectorOutcome } from './collect/collector.js';
import { enabledCollectors } from './collect/index.js';
import { loadAgentConfig, type AgentConfig } from './config.js';
import { startLogs, type LogSubsystem } from './logs/index.js';
import { realHost, type Host } from './host.js';
import { inventoryOf, pendingInventory, scanPackages } from './inventory/packages.js';
import { runCommand } from './push/commands.js';
import { readNativeState, startNativeClient, type NativeClient } from './push/native.js';
import { startOitcClient, type OitcClient } from './push/oitc.js';
import { parsePrometheusExporters, type PrometheusExporter } from './prometheus/config.js';
import { startPrometheusScraper, type PrometheusScraper } from './prometheus/scraper.js';
import { Pusher } from './push/pusher.js';
import { Spool } from './push/spool.js';
import { startAgentServer, type AgentServer } from './serve/server.js';
import { AGENT_VERSION } from './version.js';

/** A line for the agent's log (stderr). */
export type LogFn = (line: string) => void;

/** How long the first cycle waits after the priming one, so that its rates cover real time. */
const PRIME_MS = 1000;

/** The settings that decide how the local web server listens. */
function listenSettings(c: AgentConfig): string {
  return JSON.stringify([
    c.address,
    c.port,
    c.certfile,
    c.keyfile,
    c.tryAutossl,
    c.tlsSecurityLevel,
    c.autosslCrtFile,
    c.autosslKeyFile,
    c.autosslCaFile,
  ]);
}

/** An inventory as JSON text and the summary fields the check-data document carries. */
function summarize(inv: PackageInventory): {
  json: string;
  summary: Pick<PackageInventory, 'Enabled' | 'Pending' | 'LastUpdate' | 'Stats'>;
} {
  // JSON.parse of the text gives the summary flat copies, holding nothing of the scan's strings.
  const json = JSON.stringify(inv);
  const { Enabled, Pending, LastUpdate, Stats } = JSON.parse(json) as PackageInventory;
  return { json, summary: { Enabled, Pending, LastUpdate, Stats } };
}

/**
 * Reads customchecks.ini; a missing file means no checks. The concurrency is the file's
 * `max_worker_threads`, else `[vigil] check-concurrency`. Throws `CustomChecksError`.
 */
export function loadCustomChecks(config: AgentConfig): {
  checks: CustomChecksConfig['checks'];
  concurrency: number;
} {
  const parsed = existsSync(config.customchecks)
    ? parseCustomChecks(readFileSync(config.customchecks, 'utf8'))
    : { checks: [], concurrency: undefined };
  return {
    checks: parsed.checks,
    concurrency: parsed.concurrency ?? config.vigil.checkConcurrency,
  };
}

/**
 * Reads prometheus_exporters.ini when `[prometheus] enabled = True`; a missing file means no
 * exporters. Throws `PrometheusExportersError`.
 */
export function loadPrometheusExporters(config: AgentConfig): PrometheusExporter[] {
  if (!config.prometheus.enabled || !existsSync(config.prometheus.exporters)) return [];
  return parsePrometheusExporters(readFileSync(config.prometheus.exporters, 'utf8'));
}

/**
 * Runs the collectors once without keeping the result, so that their rate state is filled, then
 * waits a moment (at most the interval): the next cycle's rates then cover real time.
 */
async function prime(collectors: AnyCollector[], host: Host, config: AgentConfig): Promise<void> {
  await runCollectors(collectors, { host, nowMs: Date.now(), intervalSeconds: config.interval });
  await new Promise((r) => setTimeout(r, Math.min(PRIME_MS, config.interval * 1000)));
}

/**
 * Collects one document right away: a priming pass (for rates), a short wait, then the real
 * pass. Used by `vigil-agent collect --once`.
 */
export async function collectOnce(
  config: AgentConfig,
  host: Host = hostFor(config),
): Promise<{ document: Record<string, unknown>; outcomes: CollectorOutcome[] }> {
  const collectors = enabledCollectors(config.toggles);
  await prime(collectors, host, config);
  return runCollectors(collectors, { host, nowMs: Date.now(), intervalSeconds: config.interval });
}

/** How deployed checks run under a configuration and its custom checks. */
function remoteSettings(
  config: AgentConfig,
  custom: ReturnType<typeof loadCustomChecks>,
): RemoteChecksSettings {
  return {
    policy: { enabled: config.vigil.remoteChecks, pluginDirs: config.vigil.pluginDirs },
    customNames: new Set(custom.checks.map((c) => c.name)),
    concurrency: custom.concurrency,
    limits: { maxOutputBytes: config.vigil.checkOutputBytes },
  };
}

/** The host the configuration points at (`[vigil] procfs/sysfs/rootfs`). */
export function hostFor(config: AgentConfig): Host {
  return realHost({
    proc: config.vigil.procfs,
    sys: config.vigil.sysfs,
    rootfs: config.vigil.rootfs,
  });
}

/** A running agent. */
export interface Agent {
  /** The latest document (undefined before the first cycle). */
  document(): Record<string, unknown> | undefined;
  /** The configuration in force (it changes on reload). */
  config(): AgentConfig;
  /** The local web server; undefined in openITCOCKPIT push mode without `enable-webserver`. */
  readonly server: AgentServer | undefined;
  /** Where documents go: the servers this agent pushes to (empty in pull mode). */
  readonly pushTargets: string[];
  /** Re-reads config.ini and customchecks.ini and applies them. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the agent: the collection cycle every `interval` seconds, the plugin checks on their own
 * schedules, the package inventory in the background, and the local web server. `reload` applies
 * changed files without a restart of the process (the listener is re-opened when its address,
 * port or TLS settings changed).
 */
export async function startAgent(
  configFile: string | undefined,
  opts: { log?: LogFn; host?: Host } = {},
): Promise<Agent> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  let config = loadAgentConfig(configFile);
  let host = opts.host ?? hostFor(config);
  let collectors: AnyCollector[] = enabledCollectors(config.toggles);
  let checksConfig = loadCustomChecks(config);
  let scheduler: CheckScheduler = startChecks(checksConfig.checks, {
    concurrency: checksConfig.concurrency,
    limits: { maxOutputBytes: config.vigil.checkOutputBytes },
  });
  let prometheus: PrometheusScraper = startPrometheusScraper(loadPrometheusExporters(config), {
    log,
  });
  // The checks a Vigil server deployed to this host, kept across restarts beside config.ini.
  const remote = startRemoteChecks({
    stateFile: path.join(config.stateDir, DEPLOYED_CHECKS_FILE),
    settings: remoteSettings(config, checksConfig),
    log,
  });
  let latest: Record<string, unknown> | undefined;
  // The inventory is kept as its JSON text (what GET /packages sends) plus the small summary the
  // document carries: thousands of package objects would otherwise stay on the heap between scans.
  let inventory = summarize(pendingInventory(config.packages.enabled));
  let stopped = false;
  let cycleTimer: NodeJS.Timeout | undefined;
  let packageTimer: NodeJS.Timeout | undefined;
  let cycleRunning: Promise<void> | undefined;
  let publish: (doc: Record<string, unknown>, collectedAt: number) => void = () => undefined;
  // The interval a Vigil server asked for (at its answer to a push); it wins over config.ini.
  let serverInterval: number | undefined;
  const interval = () => serverInterval ?? config.interval;
  // The compliance packs a Vigil server assigned to this host, evaluated in the background.
  const compliance = startCompliance({
    host: () => host,
    log,
    enabled: config.vigil.compliance,
    securityUpdates: () => {
      const stats = inventory.summary.Stats;
      if (!config.packages.enabled)
        return 'the package inventory is off ([packagemanager] enabled)';
      if (!config.packages.enableUpdateCheck)
        return 'the update check is off ([packagemanager] enable-update-check)';
      if (inventory.summary.Pending || !stats) return 'no package inventory yet';
      if (stats.LastError) return `the last update check failed: ${stats.LastError}`;
      return stats.SecurityUpdates;
    },
  });

  const cycle = async () => {
    const nowMs = Date.now();
    const { document, outcomes } = await runCollectors(collectors, {
      host,
      nowMs,
      intervalSeconds: interval(),
    });
    // Deployed checks sit beside the custom checks; a custom check wins a name clash.
    const customchecks: Record<string, CustomCheckResult> = {
      ...remote.results(),
      ...scheduler.results(),
    };
    document.customchecks = customchecks;
    // openITCOCKPIT agents list the exporters with metrics; the metrics are at GET /prometheus.
    document.prometheus_exporters = prometheus.answered();
    document.packagemanager = config.packages.enabled
      ? inventory.summary
      : { enabled: false, pending: false };
    const report = compliance.report();
    if (report) document.compliance = report;
    latest = document;
    publish(document, nowMs);
    for (const o of outcomes) if (!o.ok) log(`collector ${o.key} failed: ${o.error}`);
  };
  const schedule = () => {
    if (stopped) return;
    cycleTimer = setTimeout(() => {
      cycleRunning = cycle()
        .catch((err: unknown) => log(`collection cycle failed: ${(err as Error).message}`))
        .finally(schedule);
    }, interval() * 1000);
  };
  const scanInventory = async () => {
    if (!config.packages.enabled) return;
    try {
      const scan = await scanPackages(host, {
        limitDescriptionLength: config.packages.limitDescriptionLength,
        updateCheck: config.packages.enableUpdateCheck,
      });
      inventory = summarize(await inventoryOf(host, scan, Date.now(), AGENT_VERSION));
      // openITCOCKPIT agents 3.x push each finished scan on its own, and so does the native
      // push; documents carry only the summary.
      if (oitc) void oitc.submitPackages(inventory.json);
      if (native) void native.submitPackages(inventory.json);
    } catch (err) {
      log(`package inventory failed: ${(err as Error).message}`);
    }
    if (!stopped)
      packageTimer = setTimeout(() => void scanInventory(), config.packages.checkInterval * 60_000);
  };

  // Push targets: a Vigil server this agent enrolled with (`vigil-agent enroll`), and/or an
  // openITCOCKPIT-style server ([oitc] enabled). Each has its own spool, so that one being down
  // does not hold the other back.
  const pushers: { pusher: Pusher; name: string }[] = [];
  let native: NativeClient | undefined;
  let oitc: OitcClient | undefined;
  const limits = {
    maxBytes: config.vigil.spoolMaxBytes,
    maxAgeMs: config.vigil.spoolMaxAgeHours * 3_600_000,
  };
  if (readNativeState(config.stateDir)) {
    native = startNativeClient({
      dir: config.stateDir,
      host: () => host,
      log,
      onInterval: (seconds) => {
        if (seconds !== serverInterval) {
          serverInterval = seconds;
          log(`the server asks for a collection interval of ${seconds} s`);
        }
      },
      onChecks: (set) => void remote.apply(set),
      compliance: { checksum: () => compliance.checksum(), onDelivery: (d) => compliance.apply(d) },
    });
    const spool = new Spool(path.join(config.vigil.spoolDir, 'vigil'), limits);
    pushers.push({
      pusher: new Pusher(spool, native.transport, { log }),
      name: native.transport.name,
    });
  }
  if (config.push.enabled) {
    if (!config.push.url) log('[oitc] enabled = True but url is empty: not pushing');
    else {
      oitc = startOitcClient(config, log);
      const spool = new Spool(path.join(config.vigil.spoolDir, 'oitc'), limits);
      pushers.push({ pusher: new Pusher(spool, oitc, { log }), name: oitc.name });
    }
  }
  // Log lines go only to a Vigil server, over the native client's connection.
  let logs: LogSubsystem = await startLogs(config, native?.logs, log);
  publish = (doc, collectedAt) => {
    if (pushers.length === 0) return;
    const text = JSON.stringify(doc);
    for (const p of pushers) p.pusher.submit(collectedAt, text);
  };

  // Prime the rate collectors, then publish the first document a moment later.
  await prime(collectors, host, config);
  await cycle();
  schedule();
  void scanInventory();

  // openITCOCKPIT's agent turns its web server off in push mode unless told otherwise.
  const serveApi = !config.push.enabled || config.push.enableWebserver;
  const server: AgentServer | undefined = serveApi
    ? await startAgentServer(
        {
          config: () => config,
          document: () => latest,
          packages: () => inventory.json,
          prometheus: () => prometheus,
          reload: () => reload(),
          command: (c) => runCommand(host, c),
        },
        { log },
      )
    : undefined;

  const reload = async () => {
    const next = loadAgentConfig(configFile);
    const nextChecks = loadCustomChecks(next);
    const nextExporters = loadPrometheusExporters(next);
    const relisten = listenSettings(next) !== listenSettings(config);
    const relog = JSON.stringify(next.logs) !== JSON.stringify(config.logs);
    await scheduler.stop();
    await prometheus.stop();
    prometheus = startPrometheusScraper(nextExporters, { log });
    config = next;
    checksConfig = nextChecks;
    host = opts.host ?? hostFor(config);
    collectors = enabledCollectors(config.toggles);
    scheduler = startChecks(checksConfig.checks, {
      concurrency: checksConfig.concurrency,
      limits: { maxOutputBytes: config.vigil.checkOutputBytes },
    });
    await remote.reconfigure(remoteSettings(config, checksConfig));
    if (relog) {
      await logs.stop();
      logs = await startLogs(config, native?.logs, log);
    }
    if (cycleTimer) clearTimeout(cycleTimer);
    schedule();
    log(
      `configuration reloaded (${checksConfig.checks.length} custom checks)` +
        (config.prometheus.enabled ? `; ${nextExporters.length} prometheus exporters` : ''),
    );
    // A new address, port or TLS setting needs a new listener; a moment later, so that the
    // request that carried the new configuration (POST /config) gets its answer first.
    if (relisten && server)
      setTimeout(() => {
        server.restart().catch((err: unknown) => {
          log(`local web server could not listen with the new settings: ${(err as Error).message}`);
        });
      }, 100);
  };

  return {
    document: () => latest,
    config: () => config,
    server,
    pushTargets: pushers.map((p) => p.name),
    reload,
    async stop() {
      stopped = true;
      if (cycleTimer) clearTimeout(cycleTimer);
      if (packageTimer) clearTimeout(packageTimer);
      await cycleRunning;
      await scheduler.stop();
      await remote.stop();
      await compliance.stop();
      await prometheus.stop();
      await logs.stop();
      // Undelivered documents go to the spool, to be sent after the next start.
      await Promise.all(pushers.map((p) => p.pusher.stop()));
      native?.stop();
      await server?.close();
    },
  };
}
