import dgram from 'node:dgram';
import net from 'node:net';
import type { LogLevel } from '@vigil/protocol';
import { createFrameDecoder } from './framing.js';
import { normalizeAddress, type SyslogHostIndex, type SyslogHostMatcher } from './hosts.js';
import type { SyslogAddress } from './listen.js';
import { parseSyslog, type SyslogMessage } from './parse.js';

/** One syslog line as the listener hands it to the log store. */
export interface SyslogRecord {
  /** Epoch ms. */
  timestamp: number;
  /** The matched host; null when no host matched (the line is kept, `fields.hostname` tells). */
  host_id: string | null;
  agent_id: null;
  source: 'syslog';
  /** The app name or tag (`sshd`), else `syslog`. */
  source_name: string;
  level: LogLevel;
  message: string;
  /**
   * The parser's fields (facility, structured data…) and the listener's: `hostname` (the line's
   * HOSTNAME), `remote_addr` (the sender's address), `pid`, `msgid`.
   */
  fields: Record<string, string>;
}

/** Where the listener stores lines; resolves once they are durable. */
export interface SyslogSink {
  append(entries: SyslogRecord[]): Promise<unknown>;
}

/** The listener's bounds. */
export interface SyslogLimits {
  /** Most open TCP connections; more are refused. */
  maxConnections: number;
  /** Longest message (a datagram, a TCP frame) in bytes; a longer one is cut there. */
  maxMessageBytes: number;
  /** A TCP connection that sends nothing for this long (ms) is closed. */
  idleTimeoutMs: number;
  /**
   * Most lines waiting to be stored. When full, UDP datagrams are dropped (and counted) and TCP
   * connections are paused until the queue is half empty, so TCP senders hold their lines.
   */
  queueMaxLines: number;
  /** Longest a line waits for others to share its write (ms). */
  flushMs: number;
  /** Most lines in one write. */
  batchMax: number;
}

/** What the listener did since it started. */
export interface SyslogStats {
  /** Lines received and parsed (empty ones are not counted). */
  received: number;
  /** Lines stored. */
  stored: number;
  /** Datagrams dropped because the queue was full. */
  droppedQueueFull: number;
  /** Lines dropped because storing them failed three times. */
  droppedFailed: number;
  /** Messages cut at `maxMessageBytes`. */
  truncated: number;
  /** TCP connections refused at `maxConnections`. */
  refusedConnections: number;
  /** TCP connections open now. */
  connections: number;
}

/** A running syslog listener. */
export interface SyslogListener {
  /** The addresses bound, with the ports chosen for port 0. */
  addresses(): SyslogAddress[];
  stats(): SyslogStats;
  /** Stops receiving, closes connections, then stores what is queued. */
  close(): Promise<void>;
}

interface Pending {
  message: SyslogMessage;
  remote: string | null;
}

/** Delays between the attempts to store a batch, after the first one fails. */
const RETRY_MS = [200, 1_000];
const SOURCE_NAME_MAX = 128;
const UDP_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/** The record of a parsed line, filed under the host the index finds for it. */
function recordOf(p: Pending, index: SyslogHostIndex): SyslogRecord {
  const m = p.message;
  const fields: Record<string, string> = { ...m.fields };
  if (m.hostname !== null) fields.hostname = m.hostname;
  if (p.remote !== null) fields.remote_addr = normalizeAddress(p.remote);
  if (m.pid !== null) fields.pid = m.pid;
  if (m.msgid !== null) fields.msgid = m.msgid;
  return {
    timestamp: m.timestamp,
    host_id: index.match(p.remote, m.hostname),
    agent_id: null,
    source: 'syslog',
    source_name: (m.app ?? 'syslog').slice(0, SOURCE_NAME_MAX),
    level: m.level,
    message: m.message,
    fields,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

/**
 * Starts listening on `addresses`: UDP (one datagram is one message) and TCP (RFC 6587, both
 * framings on one connection). Lines are parsed as they arrive, queued, and stored in batches
 * (`flushMs`, `batchMax`) under the host `hosts` matches; a batch that fails is tried twice more,
 * then dropped and counted. Nothing a sender does throws out of the listener.
 * @throws Error naming the address when one cannot be bound (what was bound is closed again).
 */
export async function startSyslogListener(deps: {
  addresses: readonly SyslogAddress[];
  sink: SyslogSink;
  hosts: SyslogHostMatcher;
  limits: SyslogLimits;
  now: () => number;
  log: { warn(obj: object, msg: string): void };
}): Promise<SyslogListener> {
  const { limits, now } = deps;
  const stats: SyslogStats = {
    received: 0,
    stored: 0,
    droppedQueueFull: 0,
    droppedFailed: 0,
    truncated: 0,
    refusedConnections: 0,
    connections: 0,
  };
  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;
  let lastWarning = 0;
  const paused = new Set<net.Socket>();
  const sockets = new Set<net.Socket>();
  const udp: dgram.Socket[] = [];
  const tcp: net.Server[] = [];
  const bound: SyslogAddress[] = [];

  const warn = (what: string) => {
    if (now() - lastWarning < 60_000) return;
    lastWarning = now();
    deps.log.warn({ syslog: { ...stats } }, what);
  };

  const storeBatch = async (batch: Pending[]): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        const index = await deps.hosts.index();
        await deps.sink.append(batch.map((p) => recordOf(p, index)));
        stats.stored += batch.length;
        return;
      } catch (err) {
        if (attempt >= RETRY_MS.length) {
          stats.droppedFailed += batch.length;
          deps.log.warn({ err, lines: batch.length }, 'storing syslog lines failed: dropped');
          return;
        }
        await sleep(RETRY_MS[attempt]!);
      }
    }
  };

  const resume = () => {
    if (queue.length > limits.queueMaxLines / 2) return;
    for (const s of paused) s.resume();
    paused.clear();
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.length <= limits.batchMax ? queue : queue.slice(0, limits.batchMax);
      queue = queue.length <= limits.batchMax ? [] : queue.slice(limits.batchMax);
      resume();
      await storeBatch(batch);
    }
  };

  /** Stores what is queued; one drain runs at a time, and takes in lines that come meanwhile. */
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    flushing ??= drain().finally(() => {
      flushing = undefined;
      resume();
    });
    return flushing;
  };

  const enqueue = (text: string, remote: string | null) => {
    let message: SyslogMessage | undefined;
    try {
      message = parseSyslog(text, now());
    } catch {
      // The parser does not throw; should it, the line is not worth the listener.
      return;
    }
    if (!message) return;
    stats.received++;
    queue.push({ message, remote });
    if (queue.length >= limits.batchMax) void flush();
    else if (!timer && !flushing) timer = setTimeout(() => void flush(), limits.flushMs);
  };

  const onConnection = (socket: net.Socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    stats.connections = sockets.size;
    const remote = socket.remoteAddress ?? null;
    const decoder = createFrameDecoder(limits.maxMessageBytes);
    let truncatedBefore = 0;
    const take = (frames: string[]) => {
      for (const f of frames) enqueue(f, remote);
      stats.truncated += decoder.truncated - truncatedBefore;
      truncatedBefore = decoder.truncated;
    };
    socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      take(decoder.push(chunk));
      if (queue.length >= limits.queueMaxLines && !paused.has(socket)) {
        socket.pause();
        paused.add(socket);
        void flush();
      }
    });
    socket.on('end', () => {
      take(decoder.end());
      socket.end();
    });
    // A reset by the sender is its business; the connection is closed either way.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      paused.delete(socket);
      stats.connections = sockets.size;
    });
  };

  const onDatagram = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    if (queue.length >= limits.queueMaxLines) {
      stats.droppedQueueFull++;
      warn('syslog queue full: datagrams dropped');
      return;
    }
    let bytes = msg;
    if (bytes.length > limits.maxMessageBytes) {
      bytes = bytes.subarray(0, limits.maxMessageBytes);
      stats.truncated++;
    }
    enqueue(bytes.toString('utf8'), rinfo.address);
  };

  const bindOne = async (a: SyslogAddress): Promise<SyslogAddress> => {
    if (a.protocol === 'udp') {
      const socket = dgram.createSocket({ type: net.isIPv6(a.host) ? 'udp6' : 'udp4' });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(a.port, a.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      try {
        // A burst waits in the kernel while a batch is stored; Linux caps it at rmem_max.
        socket.setRecvBufferSize(UDP_RECEIVE_BUFFER_BYTES);
      } catch {
        // The system's buffer size stays.
      }
      socket.on('error', (err) => deps.log.warn({ err }, 'syslog UDP socket error'));
      socket.on('message', onDatagram);
      udp.push(socket);
      return { ...a, port: socket.address().port };
    }
    const server = net.createServer(onConnection);
    server.maxConnections = limits.maxConnections;
    server.on('drop', () => {
      stats.refusedConnections++;
      warn('syslog TCP connections refused: too many open');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: a.port, host: a.host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => deps.log.warn({ err }, 'syslog TCP listener error'));
    tcp.push(server);
    return { ...a, port: (server.address() as net.AddressInfo).port };
  };

  const stopReceiving = async () => {
    closed = true;
    for (const s of udp) s.close();
    const closing = tcp.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of sockets) {
      closing.push(new Promise<void>((resolve) => s.once('close', () => resolve())));
      s.destroy();
    }
    await Promise.all(closing);
  };

  for (const a of deps.addresses) {
    try {
      bound.push(await bindOne(a));
    } catch (err) {
      await stopReceiving();
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      const hint =
        code === 'EACCES' && a.port < 1024
          ? ' (a port below 1024 needs root or CAP_NET_BIND_SERVICE)'
          : '';
      throw new Error(
        `syslog: cannot listen on ${a.protocol}://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}: ${code}${hint}`,
        { cause: err },
      );
    }
  }

  return {
    addresses: () => bound.map((a) => ({ ...a })),
    stats: () => ({ ...stats }),
    async close() {
      await stopReceiving();
      if (flushing) await flushing;
      await flush();
    },
  };
}
