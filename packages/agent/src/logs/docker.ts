import http from 'node:http';
import { isRecord } from '@vigil/protocol/guards';
import { DockerLogDecoder, type DockerLogLine, dockerSince } from './docker-stream.js';
import { levelOfLine } from './levels.js';
import type { LogLine, LogSink, LogSourceReader } from './model.js';
import { cutMessage } from './multiline.js';
import { positionFile } from './positions.js';

/** The Docker Engine API socket. */
export const DOCKER_SOCKET = '/var/run/docker.sock';

/** How the Docker source reads; periods in milliseconds. */
export interface DockerSourceOptions {
  /** The folder the containers' positions are kept in (`docker.json`). */
  stateDir: string;
  /** The Engine API's unix socket (default /var/run/docker.sock). */
  socketPath?: string;
  /** How often the container list is read to follow new containers (default 5,000). */
  pollMs?: number;
  /** Most lines in one sink call (default 1,000). */
  batchMax?: number;
  /** The agent's own log. */
  log?: (msg: string) => void;
}

/** Lines held in memory before the containers' streams are paused. */
const QUEUE_MAX = 10_000;

/** GETs an Engine API path and parses its JSON answer. */
function getJson(socketPath: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: 10_000 }, (res) => {
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
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`docker ${path}: timed out`)));
    req.on('error', reject);
  });
}

/** Whether a Docker Engine answers on the socket (`GET /_ping`). */
export function dockerAvailable(socketPath = DOCKER_SOCKET): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', () => resolve(false));
  });
}

/** A container as the list answer gives it. */
interface Container {
  id: string;
  name: string;
  image: string;
  running: boolean;
}

const decodeList = (json: unknown): Container[] =>
  Array.isArray(json)
    ? json.filter(isRecord).flatMap((c) =>
        typeof c.Id === 'string'
          ? [
              {
                id: c.Id,
                name:
                  Array.isArray(c.Names) && typeof c.Names[0] === 'string'
                    ? c.Names[0].replace(/^\//, '')
                    : c.Id.slice(0, 12),
                image: typeof c.Image === 'string' ? c.Image : '',
                running: c.State === 'running',
              },
            ]
          : [],
      )
    : [];

interface Queued {
  line: LogLine;
  id: string;
  time: string;
}

/**
 * The Docker source: follows the logs of every running container through the Engine API
 * (`/containers/{id}/logs?follow=1&timestamps=1`), demultiplexing stdout and stderr.
 *
 * - Position: per container, the time of the last line the sink took (Docker's nanosecond
 *   time), saved in `<stateDir>/docker.json` only after the sink resolved. A resumed stream asks
 *   for `since` that time and skips the lines at or before it (Docker's `since` is inclusive).
 * - First start (no `docker.json` yet): the containers running then are read from now on
 *   (`tail=0`). Containers that start later, and on a restart every container without a saved
 *   position (started while the agent was stopped), are read from their first line.
 * - New containers are found by reading the container list every `pollMs`; a stream that ends
 *   (the container stopped) is followed again when the container runs again.
 * - Levels are guessed from each line's text (stderr is not an error by itself); the fields
 *   are `stream` (stdout|stderr), `container_id` and `image`.
 */
export function createDockerSource(opts: DockerSourceOptions): LogSourceReader {
  const socketPath = opts.socketPath ?? DOCKER_SOCKET;
  const pollMs = opts.pollMs ?? 5_000;
  const batchMax = opts.batchMax ?? 1_000;
  const log = opts.log ?? (() => undefined);
  const positions = positionFile(opts.stateDir, 'docker', (j) => {
    if (!isRecord(j) || !isRecord(j.containers)) return undefined;
    const out: Record<string, string> = {};
    for (const [id, t] of Object.entries(j.containers)) if (typeof t === 'string') out[id] = t;
    return { containers: out };
  });
  /** Per container: the time of the last line the sink took. */
  let committed: Record<string, string> = {};
  /** Per container: the time of the last line read (queued or taken). */
  const lastRead = new Map<string, string>();
  const streams = new Map<string, http.ClientRequest>();
  const responses = new Set<http.IncomingMessage>();
  const queue: Queued[] = [];
  let firstPoll = true;
  /** Whether a position file existed at the start (a restart, not the first start). */
  let hadState = false;
  let stopped = false;
  let sink: LogSink | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;
  let pumping: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let listFailing = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const save = (): void => {
    try {
      positions.save({ containers: committed });
    } catch (err) {
      log(`logs: cannot save the Docker positions: ${(err as Error).message}`);
    }
  };

  const enqueue = (c: Container, l: DockerLogLine): void => {
    const last = lastRead.get(c.id);
    if (l.time && last !== undefined && l.time <= last) return;
    if (l.time) lastRead.set(c.id, l.time);
    queue.push({
      id: c.id,
      time: l.time,
      line: {
        timestamp: l.timestamp,
        source: 'docker',
        source_name: c.name,
        level: levelOfLine(l.message),
        message: cutMessage(l.message),
        fields: { stream: l.stream, container_id: c.id, image: c.image },
      },
    });
  };

  const follow = async (c: Container, fromNow: boolean): Promise<void> => {
    const inspect = await getJson(socketPath, `/containers/${encodeURIComponent(c.id)}/json`);
    const tty = isRecord(inspect) && isRecord(inspect.Config) && inspect.Config.Tty === true;
    const since = lastRead.get(c.id);
    if (fromNow && !since) {
      // Saved at once, so that a restart before the container's next line reads no history.
      // Not a reading position: the lines that follow are Docker's to date, not this clock's.
      const time = new Date()
        .toISOString()
        .replace(/\.(\d+)Z$/, (_, ms: string) => `.${ms.padEnd(9, '0')}Z`);
      committed[c.id] = time;
    }
    const query = `follow=1&stdout=1&stderr=1&timestamps=1${
      since ? `&since=${dockerSince(since)}` : fromNow ? '&tail=0' : ''
    }`;
    if (stopped || streams.has(c.id)) return;
    const decoder = new DockerLogDecoder(tty);
    const req = http.get(
      { socketPath, path: `/containers/${encodeURIComponent(c.id)}/logs?${query}` },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          log(`logs: docker logs of ${c.name}: HTTP ${res.statusCode}`);
          return;
        }
        responses.add(res);
        res.on('data', (chunk: Buffer) => {
          for (const l of decoder.push(chunk, Date.now())) enqueue(c, l);
          if (queue.length >= QUEUE_MAX) res.pause();
          wake?.();
        });
        res.on('end', () => {
          for (const l of decoder.end(Date.now())) enqueue(c, l);
          wake?.();
        });
        res.on('close', () => {
          responses.delete(res);
          if (streams.get(c.id) === req) streams.delete(c.id);
        });
      },
    );
    streams.set(c.id, req);
    req.on('error', (err) => {
      if (streams.get(c.id) === req) streams.delete(c.id);
      if (!stopped) log(`logs: docker logs of ${c.name}: ${err.message}`);
    });
  };

  const poll = async (): Promise<void> => {
    let all: Container[];
    try {
      all = decodeList(await getJson(socketPath, '/containers/json?all=1'));
      listFailing = false;
    } catch (err) {
      if (!listFailing) log(`logs: cannot list Docker containers: ${(err as Error).message}`);
      listFailing = true;
      return;
    }
    const known = new Set(all.map((c) => c.id));
    for (const id of Object.keys(committed)) if (!known.has(id)) delete committed[id];
    for (const c of all) {
      if (!c.running || streams.has(c.id)) continue;
      await follow(c, firstPoll && !hadState).catch((err: unknown) =>
        log(`logs: cannot follow the logs of ${c.name}: ${(err as Error).message}`),
      );
    }
    if (firstPoll) save();
    firstPoll = false;
  };

  const loop = (): void => {
    if (stopped) return;
    polling = poll().finally(() => {
      if (!stopped) pollTimer = setTimeout(loop, pollMs);
    });
  };

  const pump = async (): Promise<void> => {
    let retryDelay = 1_000;
    while (!stopped) {
      if (queue.length === 0) {
        await sleep(60_000);
        continue;
      }
      const batch = queue.slice(0, batchMax);
      try {
        await sink!(batch.map((q) => q.line));
      } catch (err) {
        log(
          `logs: Docker lines not taken (${(err as Error).message}); retrying in ${retryDelay} ms`,
        );
        await sleep(retryDelay);
        retryDelay = Math.min(retryDelay * 2, 30_000);
        continue;
      }
      retryDelay = 1_000;
      queue.splice(0, batch.length);
      for (const q of batch) if (q.time) committed[q.id] = q.time;
      save();
      if (queue.length < QUEUE_MAX / 2)
        for (const res of responses) if (res.isPaused()) res.resume();
    }
  };

  return {
    description: `docker (${socketPath})`,
    start(s) {
      sink = s;
      const loaded = positions.load();
      hadState = loaded !== undefined;
      committed = loaded?.containers ?? {};
      for (const [id, t] of Object.entries(committed)) lastRead.set(id, t);
      loop();
      pumping = pump();
    },
    async stop() {
      stopped = true;
      clearTimeout(pollTimer);
      await polling;
      for (const req of streams.values()) req.destroy();
      streams.clear();
      wake?.();
      await pumping;
      if (sink) save();
    },
  };
}
