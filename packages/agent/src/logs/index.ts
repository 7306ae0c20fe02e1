import path from 'node:path';
import type { AgentConfig } from '../config.js';
import { LogBuffer } from './buffer.js';
import { createDockerSource, dockerAvailable } from './docker.js';
import { createFileSource } from './files.js';
import { createJournalSource, journalAvailable } from './journald.js';
import type { LogSink, LogSourceReader } from './model.js';
import { createRateLimiter } from './rate.js';
import { startLogShipper, type LogPoster } from './shipper.js';

/** The agent's running log collection. */
export interface LogSubsystem {
  /** What each running source reads (empty when nothing is collected). */
  readonly sources: readonly string[];
  /**
   * Stops the sources (each persists the position of the last line the buffer took), then the
   * shipper, then closes the buffer. Lines not yet sent wait on disk for the next start.
   */
  stop(): Promise<void>;
}

/** Builds the sources `[logs]` asks for; a source that cannot run here is logged and left out. */
export type LogSourceFactory = (
  config: AgentConfig,
  log: (line: string) => void,
) => Promise<LogSourceReader[]>;

/**
 * The sources `[logs]` names: the file globs, the journal (when `journalctl` works here), the
 * Docker containers (when the Engine API answers on its socket). They keep their positions in
 * `positions` inside the buffer's folder, beside the lines they were saved for.
 */
export const configuredSources: LogSourceFactory = async (config, log) => {
  const c = config.logs;
  const stateDir = path.join(c.bufferDir, 'positions');
  const sources: LogSourceReader[] = [];
  if (c.files.length > 0)
    sources.push(
      createFileSource({
        globs: [...c.files],
        stateDir,
        ...(c.multilineStart !== undefined ? { multilineStart: new RegExp(c.multilineStart) } : {}),
        log,
      }),
    );
  if (c.journald) {
    if (await journalAvailable()) sources.push(createJournalSource({ stateDir, log }));
    else log('logs: journald = true, but journalctl does not work here: the journal is not read');
  }
  if (c.docker) {
    if (await dockerAvailable()) sources.push(createDockerSource({ stateDir, log }));
    else log('logs: docker = true, but the Docker socket does not answer: containers are not read');
  }
  return sources;
};

const idle: LogSubsystem = { sources: [], stop: async () => undefined };

/**
 * Starts log collection as `[logs]` configures it: the sources (`makeSources`, by default
 * `configuredSources`), the
 * per-source rate limit, the disk buffer and the shipper, which pushes over `poster` (the native
 * client's mutual-TLS connection). Nothing runs when `[logs]` names no source. Without `poster`
 * (the openITCOCKPIT push and pull modes, which have no log route) the agent says once in its
 * log that logs are not shipped, and collects nothing. Never throws: a buffer that cannot be
 * opened is logged and log collection stays off, the rest of the agent runs on.
 */
export async function startLogs(
  config: AgentConfig,
  poster: LogPoster | undefined,
  log: (line: string) => void,
  makeSources: LogSourceFactory = configuredSources,
): Promise<LogSubsystem> {
  const c = config.logs;
  if (c.files.length === 0 && !c.journald && !c.docker) return idle;
  if (!poster) {
    log(
      'logs: [logs] names sources, but log lines are shipped only to a Vigil server ' +
        '(vigil-agent enroll), not in the openITCOCKPIT modes: not collecting them',
    );
    return idle;
  }
  let buffer: LogBuffer;
  try {
    buffer = new LogBuffer({ dir: c.bufferDir, maxBytes: c.bufferMaxBytes, log });
  } catch (err) {
    log(`logs: cannot open the log buffer in ${c.bufferDir}: ${(err as Error).message}`);
    return idle;
  }
  const limiter = createRateLimiter({
    ratePerSecond: c.rateLimit,
    burst: c.rateBurst,
    onDropped: (d) => buffer.countDropped(d),
    log,
  });
  const sink: LogSink = (lines) => buffer.append(limiter.admit(lines));
  let sources: LogSourceReader[];
  try {
    sources = await makeSources(config, log);
  } catch (err) {
    log(`logs: cannot start the log sources: ${(err as Error).message}`);
    sources = [];
  }
  const shipper = startLogShipper({
    buffer,
    poster,
    maxLines: c.batchMaxLines,
    delayMs: c.batchDelayMs,
    log,
  });
  for (const s of sources) {
    s.start(sink);
    log(`logs: reading ${s.description}`);
  }
  return {
    sources: sources.map((s) => s.description),
    async stop() {
      await Promise.all(
        sources.map((s) =>
          s.stop().catch((err: unknown) => {
            log(`logs: ${s.description} did not stop cleanly: ${(err as Error).message}`);
          }),
        ),
      );
      await shipper.stop();
      await buffer.close();
    },
  };
}
