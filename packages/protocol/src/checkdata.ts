import { Type, type Static, type TProperties, type TSchema } from '@sinclair/typebox';
import { ComplianceReport } from './compliance.js';

// The check-data document: what an agent's `GET /` answers and what it pushes. Its top-level keys
// and field names are the openITCOCKPIT Monitoring Agent's (3.x), spelled exactly as that agent
// emits them, including the PascalCase of its untagged Go structures (`disk_io`, the CPU
// breakdowns, `sensors`, `systemd_services`, `Memory`, `CreateTime`). Vigil's additions live under
// their own keys (`gpu`, `net_connections`, `smart`, `listening_ports`, `accounts`, `compliance`)
// or as extra fields, never as renamed ones. Objects accept additional properties, so that
// documents from the openITCOCKPIT agent itself (which also carries Windows and macOS fields)
// validate too. Every field of a section is optional: agents of other versions and systems leave
// some out (openITCOCKPIT agents 3.0.0 to 3.0.11 send no `agent.check_interval`, and the
// reference document sends `"agent": {}`).

const N = Type.Number();
const Int = Type.Integer();
const Str = Type.String();
const Bool = Type.Boolean();
const Open = { additionalProperties: true } as const;
/** An open object whose fields may each be missing. */
const Fields = <T extends TProperties>(properties: T) =>
  Type.Partial(Type.Object(properties, Open));

/** What a collector that failed sends under its own key instead of its data. */
export const CollectorError = Type.Object({ error: Str }, { additionalProperties: false });
export type CollectorError = Static<typeof CollectorError>;

/** A Vigil source this machine does not have (no GPU, no smartctl). */
export const Unavailable = Type.Object(
  { available: Type.Literal(false), reason: Type.Optional(Str) },
  Open,
);

/** `schema`, or the error marker of a failed collector. */
const OrError = <T extends TSchema>(schema: T) => Type.Union([schema, CollectorError]);

/**
 * A list the openITCOCKPIT agent may send as `null`: Go encodes a nil slice as `null` unless the
 * field is tagged `omitempty`, and the agent leaves some slices nil (a Windows process's
 * `status`, the per-core CPU figures when reading them failed). Null means the same as an absent
 * field; readers test with `Array.isArray`.
 */
const GoList = <T extends TSchema>(item: T) => Type.Union([Type.Array(item), Type.Null()]);
/** An object the openITCOCKPIT agent sends as `null` when its Go pointer stayed nil. */
const GoPointer = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** CPU time shares in percent; the five add up to 100 (openITCOCKPIT agent: untagged Go struct). */
export const CpuDetails = Fields({ User: N, Nice: N, System: N, Idle: N, Iowait: N });

export const AgentInfo = Fields({
  last_updated: Str,
  last_updated_timestamp: Int,
  system: Str,
  system_uptime: Int,
  kernel_version: Str,
  mac_version: Str,
  family: Str,
  agent_version: Str,
  temperature_unit: Str,
  goos: Str,
  goarch: Str,
  check_interval: Int,
  // Vigil's agent adds the host name.
  hostname: Str,
});

export const CpuStats = Fields({
  cpu_total_percentage: N,
  cpu_percentage: GoList(N),
  cpu_total_percentage_detailed: GoPointer(CpuDetails),
  cpu_percentage_detailed: GoList(CpuDetails),
});

export const SystemLoad = Fields({ '0': N, '1': N, '2': N });

export const MemoryStats = Fields({
  total: Int,
  available: Int,
  percent: N,
  used: Int,
  free: Int,
  active: Int,
  inactive: Int,
  // Vigil's agent adds these three (bytes, from /proc/meminfo).
  buffers: N,
  cached: N,
  shared: N,
});

export const SwapStats = Fields({
  total: Int,
  percent: N,
  used: Int,
  free: Int,
  sin: Int,
  sout: Int,
});

export const DiskEntry = Fields({
  disk: Fields({ device: Str, mountpoint: Str, fstype: Str, opts: GoList(Str) }),
  usage: Fields({ total: Int, used: Int, free: Int, percent: N }),
});

/** One block device's I/O counters and rates (openITCOCKPIT agent: untagged Go struct). */
export const DiskIo = Fields({
  Timestamp: Int,
  Device: Str,
  ReadBytes: Int,
  WriteBytes: Int,
  ReadCount: Int,
  WriteCount: Int,
  ReadTime: Int,
  WriteTime: Int,
  IoTime: Int,
  ReadIopsPerSecond: N,
  WriteIopsPerSecond: N,
  TotalIopsPerSecond: N,
  ReadBytesPerSecond: N,
  WriteBytesPerSecond: N,
  TotalAvgWait: N,
  ReadAvgWait: N,
  WriteAvgWait: N,
  ReadAvgSize: N,
  WriteAvgSize: N,
  LoadPercent: N,
});

export const NetStat = Fields({ isup: Bool, duplex: Int, speed: Int, mtu: Int });

export const NetIo = Fields({
  name: Str,
  timestamp: Int,
  bytes_sent: Int,
  bytes_recv: Int,
  packets_sent: Int,
  packets_recv: Int,
  errin: Int,
  errout: Int,
  dropin: Int,
  dropout: Int,
  avg_bytes_sent_ps: N,
  avg_bytes_recv_ps: N,
  avg_packets_sent_ps: N,
  avg_packets_recv_ps: N,
  avg_errin: N,
  avg_errout: N,
  avg_dropin: N,
  avg_dropout: N,
});

export const Temperature = Fields({ label: Str, current: N, high: N, critical: N });
export const Battery = Fields({ id: Int, percent: N, secsleft: N, power_plugged: Bool });
export const Sensors = Fields({
  Temperatures: Type.Array(Temperature),
  Batteries: Type.Array(Battery),
});

export const ProcessEntry = Fields({
  pid: Int,
  ppid: Int,
  username: Str,
  name: Str,
  cpu_percent: N,
  memory_percent: N,
  cmdline: Str,
  status: GoList(Str),
  exec: Str,
  nice_level: Int,
  num_fds: Int,
  // Linux and macOS report `rss` and `vms` (and more); Windows reports `working_set`,
  // `working_set_private` and `private_bytes` instead (openITCOCKPIT agent 3.x).
  Memory: Fields({
    rss: Int,
    vms: Int,
    working_set: Int,
    working_set_private: Int,
    private_bytes: Int,
  }),
  CreateTime: Int,
});

export const UserSession = Fields({ name: Str, terminal: Str, host: Str, started: Int });

export const SystemdUnit = Fields({
  Name: Str,
  Description: Str,
  LoadState: Str,
  ActiveState: Str,
  SubState: Str,
});

export const DockerContainer = Fields({
  id: Str,
  name: Str,
  image: Str,
  state: Str,
  status: Str,
  cpu_percentage: N,
  memory_used: N,
  memory_percentage: N,
  network_rx: N,
  network_tx: N,
  disk_read: N,
  disk_write: N,
});

/** One item of Nagios performance data. Thresholds are range strings (`10:20`, `@5`, `~:3`). */
export const PerfDatum = Type.Object(
  {
    label: Str,
    value: Type.Union([N, Type.Null()]),
    uom: Str,
    warn: Type.Union([Str, Type.Null()]),
    crit: Type.Union([Str, Type.Null()]),
    min: Type.Union([N, Type.Null()]),
    max: Type.Union([N, Type.Null()]),
  },
  { additionalProperties: false },
);
export type PerfDatum = Static<typeof PerfDatum>;

/**
 * One custom check's latest result: the openITCOCKPIT fields (`stdout`, `rc`,
 * `execution_unix_timestamp_sec`) and Vigil's parsed view of the same run.
 */
export const CustomCheckResult = Type.Object(
  {
    stdout: Str,
    rc: Int,
    execution_unix_timestamp_sec: Int,
    state: Type.Optional(Str),
    output: Type.Optional(Str),
    long_output: Type.Optional(Str),
    perfdata: Type.Optional(Type.Array(PerfDatum)),
    duration_seconds: Type.Optional(N),
    timed_out: Type.Optional(Bool),
    truncated: Type.Optional(Bool),
  },
  Open,
);
export type CustomCheckResult = Static<typeof CustomCheckResult>;

/** One GPU (Vigil). Figures a driver does not report are null. */
export const GpuDevice = Fields({
  index: Int,
  name: Str,
  vendor: Str,
  utilization_percent: Type.Union([N, Type.Null()]),
  memory_used_bytes: Type.Union([N, Type.Null()]),
  memory_total_bytes: Type.Union([N, Type.Null()]),
  temperature_celsius: Type.Union([N, Type.Null()]),
  power_watts: Type.Union([N, Type.Null()]),
});
export const GpuStats = Type.Union([
  Type.Object(
    { available: Type.Literal(true), devices: Type.Optional(Type.Array(GpuDevice)) },
    Open,
  ),
  Unavailable,
]);

/** TCP connections by state (Vigil). */
export const NetConnections = Type.Union([
  Type.Object(
    {
      available: Type.Literal(true),
      total: Type.Optional(Int),
      tcp: Type.Optional(Type.Record(Str, Int)),
    },
    Open,
  ),
  Unavailable,
]);

/** Disk health from smartctl (Vigil). */
export const SmartDisk = Fields({
  device: Str,
  model: Str,
  serial: Str,
  passed: Type.Union([Bool, Type.Null()]),
  temperature_celsius: Type.Union([N, Type.Null()]),
  power_on_hours: Type.Union([N, Type.Null()]),
});
export const SmartStats = Type.Union([
  Type.Object({ available: Type.Literal(true), disks: Type.Optional(Type.Array(SmartDisk)) }, Open),
  Unavailable,
]);

/** The package inventory summary inside the document (openITCOCKPIT: `packagemanager`). */
export const PackageManagerSummary = Type.Union([
  Fields({
    Enabled: Bool,
    Pending: Bool,
    LastUpdate: Int,
    Stats: Type.Union([
      Fields({
        InstalledPackages: Int,
        UpgradablePackages: Int,
        SecurityUpdates: Int,
        RebootRequired: Bool,
      }),
      Type.Null(),
    ]),
  }),
  // openITCOCKPIT's agent sends lowercase keys when the inventory is disabled.
  Type.Object({ enabled: Type.Literal(false), pending: Type.Literal(false) }, Open),
]);

/** One listening socket (Vigil): TCP in LISTEN state, or a bound UDP socket. */
export const ListeningPort = Fields({
  protocol: Str,
  address: Str,
  port: Int,
  /** The owning process's name and id, when the agent may read them. */
  process: Str,
  pid: Int,
});

/** One local account from /etc/passwd (Vigil); never a password hash. */
export const LocalAccount = Fields({ name: Str, uid: Int, gid: Int, home: Str, shell: Str });

/** The check-data document. Every key is optional: a switched-off collector sends nothing. */
export const CheckData = Type.Object(
  {
    agent: Type.Optional(OrError(AgentInfo)),
    cpu: Type.Optional(OrError(CpuStats)),
    system_load: Type.Optional(OrError(SystemLoad)),
    memory: Type.Optional(OrError(MemoryStats)),
    swap: Type.Optional(OrError(SwapStats)),
    disks: Type.Optional(OrError(Type.Array(DiskEntry))),
    disk_io: Type.Optional(OrError(Type.Record(Str, DiskIo))),
    net_stats: Type.Optional(OrError(Type.Record(Str, NetStat))),
    net_io: Type.Optional(OrError(Type.Record(Str, NetIo))),
    sensors: Type.Optional(OrError(Sensors)),
    processes: Type.Optional(OrError(Type.Array(ProcessEntry))),
    users: Type.Optional(OrError(Type.Array(UserSession))),
    systemd_services: Type.Optional(OrError(Type.Array(SystemdUnit))),
    docker: Type.Optional(OrError(Type.Array(DockerContainer))),
    customchecks: Type.Optional(Type.Record(Str, CustomCheckResult)),
    packagemanager: Type.Optional(PackageManagerSummary),
    gpu: Type.Optional(OrError(GpuStats)),
    net_connections: Type.Optional(OrError(NetConnections)),
    smart: Type.Optional(OrError(SmartStats)),
    listening_ports: Type.Optional(OrError(Type.Array(ListeningPort))),
    accounts: Type.Optional(OrError(Type.Array(LocalAccount))),
    compliance: Type.Optional(ComplianceReport),
  },
  { ...Open, title: 'CheckData' },
);
export type CheckData = Static<typeof CheckData>;

/** One installed Linux package (`GET /packages`). */
export const LinuxPackage = Type.Object({ Name: Str, Version: Str, Description: Str }, Open);
/** One pending Linux update (`GET /packages`). */
export const LinuxUpdate = Type.Object(
  {
    Name: Str,
    CurrentVersion: Str,
    AvailableVersion: Str,
    IsSecurityUpdate: Bool,
    IsPatch: Bool,
  },
  Open,
);

/** `GET /packages`: the software inventory, in the openITCOCKPIT agent's exact shape. */
export const PackageInventory = Type.Object(
  {
    Enabled: Bool,
    Pending: Bool,
    LastUpdate: Int,
    Stats: Type.Union([
      Type.Object(
        {
          InstalledPackages: Int,
          UpgradablePackages: Int,
          SecurityUpdates: Int,
          RebootRequired: Bool,
          LastError: Type.Union([Str, Type.Null()]),
          OperatingSystem: Str,
          PackageManager: Str,
          OsName: Str,
          OsVersion: Str,
          OsFamily: Str,
          AgentVersion: Str,
          Uptime: Int,
        },
        Open,
      ),
      Type.Null(),
    ]),
    LinuxPackages: Type.Array(LinuxPackage),
    LinuxUpdates: Type.Array(LinuxUpdate),
    WindowsApps: Type.Array(Type.Unknown()),
    WindowsUpdates: Type.Array(Type.Unknown()),
    MacosApps: Type.Array(Type.Unknown()),
    MacosUpdates: Type.Array(Type.Unknown()),
  },
  { ...Open, title: 'PackageInventory' },
);
export type PackageInventory = Static<typeof PackageInventory>;

/** One core's (or the whole CPU's) time shares. */
export type CpuDetails = Static<typeof CpuDetails>;
/** The agent section of the document. */
export type AgentInfo = Static<typeof AgentInfo>;
/** Memory figures in bytes, and the share used in percent. */
export type MemoryStats = Static<typeof MemoryStats>;
/** One mounted file system and its usage. */
export type DiskEntry = Static<typeof DiskEntry>;
/** One block device's I/O counters and rates. */
export type DiskIo = Static<typeof DiskIo>;
/** One interface's link state. */
export type NetStat = Static<typeof NetStat>;
/** One interface's counters and rates. */
export type NetIo = Static<typeof NetIo>;
/** One process. */
export type ProcessEntry = Static<typeof ProcessEntry>;
/** One container. */
export type DockerContainer = Static<typeof DockerContainer>;
/** One GPU. */
export type GpuDevice = Static<typeof GpuDevice>;
/** One disk's health. */
export type SmartDisk = Static<typeof SmartDisk>;
