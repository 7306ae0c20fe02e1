import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LOG_PUSH_MAX_ENTRIES } from '@vigil/protocol/log-levels';
import { IniError, parseIni, parseIniBool, type IniDocument } from './ini.js';

/**
 * The agent's configuration: the openITCOCKPIT agent's `config.ini` (its keys, defaults and
 * meaning), plus Vigil's own keys in `[default]` (`gpustats`, `smartstats`) and `[vigil]`.
 */
export interface AgentConfig {
  /** The file it was read from, or undefined for the built-in defaults. */
  readonly file: string | undefined;
  readonly address: string;
  readonly port: number;
  /** Seconds between collection cycles. */
  readonly interval: number;
  /** `user:password` for HTTP Basic authentication of the local web server, or undefined. */
  readonly auth: string | undefined;
  readonly tryAutossl: boolean;
  readonly tlsSecurityLevel: 'lax' | 'intermediate' | 'modern';
  readonly autosslCsrFile: string;
  readonly autosslCrtFile: string;
  readonly autosslKeyFile: string;
  readonly autosslCaFile: string;
  readonly certfile: string | undefined;
  readonly keyfile: string | undefined;
  readonly configUpdateMode: boolean;
  /** The path of customchecks.ini. */
  readonly customchecks: string;
  /** Collector switches by their `config.ini` name (cpustats, memory, …). */
  readonly toggles: Readonly<Record<string, boolean>>;
  readonly push: {
    readonly enabled: boolean;
    readonly enableWebserver: boolean;
    readonly url: string;
    readonly verifyServerCertificate: boolean;
    readonly timeoutSeconds: number;
    readonly apikey: string;
    readonly proxy: string;
  };
  /** `[prometheus]`: the exporter proxy (`GET /prometheus`). */
  readonly prometheus: {
    readonly enabled: boolean;
    /** The path of prometheus_exporters.ini. */
    readonly exporters: string;
  };
  readonly packages: {
    readonly enabled: boolean;
    /** Minutes between package inventory scans. */
    readonly checkInterval: number;
    readonly enableUpdateCheck: boolean;
    readonly limitDescriptionLength: number;
  };
  readonly vigil: {
    /** Roots of the trees the collectors read (for containers that mount the host's at /host). */
    readonly procfs: string;
    readonly sysfs: string;
    readonly rootfs: string;
    /** How many plugin checks may run at once. */
    readonly checkConcurrency: number;
    /** Bytes of a plugin's output kept. */
    readonly checkOutputBytes: number;
    /** Where documents wait while the server is unreachable. */
    readonly spoolDir: string;
    /** Most bytes and oldest age (hours) the spool keeps; beyond, the oldest are dropped. */
    readonly spoolMaxBytes: number;
    readonly spoolMaxAgeHours: number;
    /** openITCOCKPIT push credentials (`{"uuid","password"}`, mode 0600). */
    readonly oitcAuthFile: string;
    /**
     * Whether the checks a Vigil server deploys to this host run (`remote-checks`, off by
     * default): a server must not be able to run programs on its agents unless each allows it.
     */
    readonly remoteChecks: boolean;
    /**
     * Whether the compliance packs a Vigil server assigns to this host are evaluated
     * (`compliance`, on by default): read-only probes of files, kernel parameters, packages,
     * units and ports.
     */
    readonly compliance: boolean;
    /**
     * The directories deployed checks' executables must lie in (`plugin-dirs`, comma-separated
     * absolute paths; default `/usr/lib/nagios/plugins`).
     */
    readonly pluginDirs: readonly string[];
  };
  /** The directory of config.ini: `vigil-agent enroll` keeps the server's URL, key and certificates here. */
  readonly stateDir: string;
  /** `[logs]`: log collection (nothing is collected unless configured). */
  readonly logs: LogsConfig;
}

/**
 * `[logs]`: which logs the agent collects and how it ships them (native push only). Nothing is
 * collected by default: an operator names the files, or turns on the journal or Docker.
 */
export interface LogsConfig {
  /** Absolute glob patterns of the files to follow (`files`, comma-separated). */
  readonly files: readonly string[];
  /** Whether the systemd journal is followed (`journald`, off by default). */
  readonly journald: boolean;
  /** Whether the Docker containers' logs are followed (`docker`, off by default). */
  readonly docker: boolean;
  /**
   * A regular expression that starts a new entry in a file (`multiline-start`); lines that do
   * not match it are joined to the entry before. Undefined: every line is an entry.
   */
  readonly multilineStart: string | undefined;
  /** Where lines wait until the server takes them, and where the sources keep their positions. */
  readonly bufferDir: string;
  /** Most bytes the disk buffer holds; beyond, its oldest lines are dropped and counted. */
  readonly bufferMaxBytes: number;
  /** Lines per second one source (a unit, a file, a container) may send on average. */
  readonly rateLimit: number;
  /** Lines one source may send at once above its rate. */
  readonly rateBurst: number;
  /** Most lines one push carries. */
  readonly batchMaxLines: number;
  /** Longest a line waits for more to fill its push, in milliseconds. */
  readonly batchDelayMs: number;
}

/** A configuration problem, naming the key (and line) and why. */
export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** The collector switches, all on by default except Docker (as in the openITCOCKPIT agent). */
export const TOGGLES: Readonly<Record<string, boolean>> = {
  cpustats: true,
  memory: true,
  swap: true,
  processstats: true,
  netstats: true,
  netio: true,
  diskstats: true,
  diskio: true,
  systemdservices: true,
  sensorstats: true,
  dockerstats: false,
  userstats: true,
  ntp: true,
  gpustats: true,
  smartstats: true,
  // Accepted for compatibility with openITCOCKPIT config files; they concern other systems.
  launchdservices: true,
  winservices: true,
  wineventlog: false,
  libvirt: false,
};

/** Keys accepted for compatibility that this agent does not act on (Windows, macOS). */
const IGNORED = new Set([
  'default.wineventlog-method',
  'default.wineventlog-logtypes',
  'default.wineventlog-age',
  'packagemanager.enable-alternative-packagemanagers',
]);

/** Where deployed checks' executables may lie when `[vigil] plugin-dirs` says nothing. */
export const DEFAULT_PLUGIN_DIR = '/usr/lib/nagios/plugins';

/** The directory of the agent's files when none is configured. */
export const DEFAULT_DIR = '/etc/vigil-agent';

/** Reads and validates a config file; throws `AgentConfigError`. */
export function loadAgentConfig(file: string | undefined): AgentConfig {
  if (file === undefined) return parseAgentConfig('', undefined);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AgentConfigError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  return parseAgentConfig(text, file);
}

/**
 * Parses `config.ini` text. Unknown sections and keys are errors (a typo would otherwise silently
 * leave a default in place); so are values of the wrong type or out of range.
 */
export function parseAgentConfig(text: string, file: string | undefined): AgentConfig {
  let doc: IniDocument;
  try {
    doc = parseIni(text);
  } catch (err) {
    if (err instanceof IniError) throw new AgentConfigError(err.message);
    throw err;
  }
  const used = new Set<string>();
  const entry = (section: string, key: string) => {
    used.add(`${section}.${key}`);
    return doc.get(section)?.values.get(key);
  };
  const where = (section: string, key: string, line: number) =>
    `[${section}] ${key} (line ${line})`;
  const str = (section: string, key: string, def: string) => entry(section, key)?.value ?? def;
  const bool = (section: string, key: string, def: boolean) => {
    const e = entry(section, key);
    if (!e) return def;
    const b = parseIniBool(e.value);
    if (b === undefined)
      throw new AgentConfigError(
        `${where(section, key, e.line)}: must be True or False, got "${e.value}"`,
      );
    return b;
  };
  const int = (section: string, key: string, def: number, min: number, max: number) => {
    const e = entry(section, key);
    if (!e) return def;
    const v = Number(e.value);
    if (!/^-?\d+$/.test(e.value.trim()) || v < min || v > max)
      throw new AgentConfigError(
        `${where(section, key, e.line)}: must be a whole number from ${min} to ${max}, got "${e.value}"`,
      );
    return v;
  };
  const dir = file ? path.dirname(path.resolve(file)) : DEFAULT_DIR;
  const relPath = (section: string, key: string, def: string) => {
    const v = str(section, key, '').trim();
    return v === '' ? def : path.resolve(dir, v);
  };

  const auth = str('default', 'auth', '').trim() || undefined;
  if (auth !== undefined && !auth.includes(':')) {
    const e = entry('default', 'auth')!;
    throw new AgentConfigError(`${where('default', 'auth', e.line)}: must be "user:password"`);
  }
  const level = str('default', 'tls-security-level', 'intermediate').trim();
  if (level !== 'lax' && level !== 'intermediate' && level !== 'modern') {
    const e = entry('default', 'tls-security-level')!;
    throw new AgentConfigError(
      `${where('default', 'tls-security-level', e.line)}: must be lax, intermediate or modern, got "${level}"`,
    );
  }
  const certfile = str('default', 'certfile', '').trim() || undefined;
  const keyfile = str('default', 'keyfile', '').trim() || undefined;
  if ((certfile === undefined) !== (keyfile === undefined))
    throw new AgentConfigError('[default] certfile and keyfile must be set together');
  const pluginDirs = str('vigil', 'plugin-dirs', DEFAULT_PLUGIN_DIR)
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  for (const d of pluginDirs)
    if (!path.isAbsolute(d) || d.split('/').includes('..')) {
      const e = entry('vigil', 'plugin-dirs')!;
      throw new AgentConfigError(
        `${where('vigil', 'plugin-dirs', e.line)}: "${d}" is not an absolute path without ".."`,
      );
    }
  const logFiles = str('logs', 'files', '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
  for (const g of logFiles)
    if (!path.isAbsolute(g)) {
      const e = entry('logs', 'files')!;
      throw new AgentConfigError(
        `${where('logs', 'files', e.line)}: "${g}" is not an absolute path or glob`,
      );
    }
  const multilineStart = str('logs', 'multiline-start', '').trim() || undefined;
  if (multilineStart !== undefined)
    try {
      new RegExp(multilineStart);
    } catch (err) {
      const e = entry('logs', 'multiline-start')!;
      throw new AgentConfigError(
        `${where('logs', 'multiline-start', e.line)}: not a regular expression: ${(err as Error).message}`,
      );
    }
  const spoolDir = relPath('vigil', 'spool-dir', path.join(dir, 'spool'));
  const toggles: Record<string, boolean> = {};
  for (const [k, def] of Object.entries(TOGGLES)) toggles[k] = bool('default', k, def);

  const config: AgentConfig = {
    file,
    address: str('default', 'address', '0.0.0.0').trim(),
    port: int('default', 'port', 3333, 1, 65535),
    interval: int('default', 'interval', 30, 1, 3600),
    auth,
    tryAutossl: bool('default', 'try-autossl', false),
    tlsSecurityLevel: level,
    autosslCsrFile: relPath('default', 'autossl-csr-file', path.join(dir, 'agent.csr')),
    autosslCrtFile: relPath('default', 'autossl-crt-file', path.join(dir, 'agent.crt')),
    autosslKeyFile: relPath('default', 'autossl-key-file', path.join(dir, 'agent.key')),
    autosslCaFile: relPath('default', 'autossl-ca-file', path.join(dir, 'server_ca.crt')),
    certfile: certfile && path.resolve(dir, certfile),
    keyfile: keyfile && path.resolve(dir, keyfile),
    configUpdateMode: bool('default', 'config-update-mode', false),
    customchecks: relPath('default', 'customchecks', path.join(dir, 'customchecks.ini')),
    toggles,
    push: {
      enabled: bool('oitc', 'enabled', false),
      enableWebserver: bool('oitc', 'enable-webserver', false),
      url: str('oitc', 'url', '').trim(),
      verifyServerCertificate: bool('oitc', 'verify-server-certificate', false),
      timeoutSeconds: int('oitc', 'timeout', 1, 1, 300),
      apikey: str('oitc', 'apikey', '').trim(),
      proxy: str('oitc', 'proxy', '').trim(),
    },
    prometheus: {
      // Off unless enabled, as in the openITCOCKPIT agent (its example config turns it on).
      enabled: bool('prometheus', 'enabled', false),
      exporters: relPath('prometheus', 'exporters', path.join(dir, 'prometheus_exporters.ini')),
    },
    packages: {
      enabled: bool('packagemanager', 'enabled', true),
      checkInterval: int('packagemanager', 'check-interval', 60, 1, 10_080),
      enableUpdateCheck: bool('packagemanager', 'enable-update-check', true),
      limitDescriptionLength: int('packagemanager', 'limit-description-length', 80, -1, 1_000_000),
    },
    vigil: {
      procfs: str('vigil', 'procfs', '/proc').trim(),
      sysfs: str('vigil', 'sysfs', '/sys').trim(),
      rootfs: str('vigil', 'rootfs', '/').trim(),
      checkConcurrency: int('vigil', 'check-concurrency', 4, 1, 256),
      checkOutputBytes: int('vigil', 'check-output-bytes', 64 * 1024, 1024, 16 * 1024 * 1024),
      spoolDir,
      spoolMaxBytes: int(
        'vigil',
        'spool-max-bytes',
        256 * 1024 * 1024,
        1024 * 1024,
        64 * 1024 ** 3,
      ),
      spoolMaxAgeHours: int('vigil', 'spool-max-age-hours', 24, 1, 24 * 365),
      oitcAuthFile: relPath('vigil', 'oitc-auth-file', path.join(dir, 'agent.auth')),
      remoteChecks: bool('vigil', 'remote-checks', false),
      compliance: bool('vigil', 'compliance', true),
      pluginDirs,
    },
    stateDir: dir,
    logs: {
      files: logFiles,
      journald: bool('logs', 'journald', false),
      docker: bool('logs', 'docker', false),
      multilineStart,
      bufferDir: relPath('logs', 'buffer-dir', path.join(spoolDir, 'logs')),
      bufferMaxBytes: int('logs', 'buffer-max-bytes', 64 * 1024 ** 2, 1024 ** 2, 64 * 1024 ** 3),
      rateLimit: int('logs', 'rate-limit', 1_000, 1, 1_000_000),
      rateBurst: int('logs', 'rate-burst', 5_000, 1, 10_000_000),
      batchMaxLines: int('logs', 'batch-max-lines', 1_000, 1, LOG_PUSH_MAX_ENTRIES),
      batchDelayMs: int('logs', 'batch-delay-ms', 1_000, 0, 60_000),
    },
  };
  for (const ignored of IGNORED) entry(...(ignored.split('.') as [string, string]));
  for (const section of doc.values()) {
    if (
      !['default', 'oitc', 'prometheus', 'packagemanager', 'vigil', 'logs'].includes(section.name)
    )
      throw new AgentConfigError(`line ${section.line}: unknown section [${section.name}]`);
    for (const [key, { line }] of section.values)
      if (!used.has(`${section.name}.${key}`))
        throw new AgentConfigError(`${where(section.name, key, line)}: unknown key`);
  }
  return config;
}
