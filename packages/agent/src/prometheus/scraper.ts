import http from 'node:http';
import https from 'node:https';
import type { PrometheusExporter } from './config.js';

/** The largest exporter answer kept (node_exporter's is about 100–300 KB). */
export const MAX_EXPORTER_BYTES = 16 * 1024 * 1024;

/** The loopback address the exporters are scraped on. */
const LOOPBACK = '127.0.0.1';

/**
 * Fetches one exporter's metrics page from this machine (127.0.0.1: IPv4, which exporters listen
 * on by default, while `localhost` may resolve to ::1 first). HTTPS exporters are local, usually
 * with self-signed certificates, so the certificate is not verified. Rejects on a connection
 * failure, a status other than 200, a timeout, or an answer over `MAX_EXPORTER_BYTES`.
 */
export function scrapeExporter(exporter: PrometheusExporter, host = LOOPBACK): Promise<string> {
  const lib = exporter.method === 'https' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(
      {
        host,
        port: exporter.port,
        path: exporter.path,
        agent: false,
        timeout: exporter.timeoutSeconds * 1000,
        headers: { 'user-agent': 'vigil-agent' },
        ...(exporter.method === 'https' ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_EXPORTER_BYTES) {
            req.destroy(new Error(`answer larger than ${MAX_EXPORTER_BYTES} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    // The whole scrape, not only an idle socket, is bounded by the timeout.
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${exporter.timeoutSeconds} s`)),
      exporter.timeoutSeconds * 1000,
    );
    req.on('timeout', () =>
      req.destroy(new Error(`no answer within ${exporter.timeoutSeconds} s`)),
    );
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
  });
}

/** The scraped exporters, as `GET /prometheus` serves them. */
export interface PrometheusScraper {
  /** The configured exporters' names, in file order. */
  names(): string[];
  /** The names of the exporters whose latest scrape succeeded (the document's `prometheus_exporters`). */
  answered(): string[];
  /** An exporter's latest metrics page, or undefined when it has none (unknown, failing). */
  metrics(name: string): string | undefined;
  /** Scrapes every exporter once now and waits for them (for tests and the first cycle). */
  scrapeAll(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Scrapes each exporter on its own interval, one scrape at a time per exporter, keeping only the
 * latest page. A failed scrape removes the exporter's page (a proxy must not serve stale metrics
 * as current) and is logged when the exporter starts failing and again when it recovers.
 */
export function startPrometheusScraper(
  exporters: readonly PrometheusExporter[],
  opts: { log: (line: string) => void; host?: string },
): PrometheusScraper {
  const pages = new Map<string, string>();
  const failing = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;

  const scrape = (e: PrometheusExporter): Promise<void> => {
    const inFlight = running.get(e.name);
    if (inFlight) return inFlight;
    const p = scrapeExporter(e, opts.host)
      .then((text) => {
        if (stopped) return;
        pages.set(e.name, text);
        if (failing.delete(e.name)) opts.log(`prometheus exporter ${e.name} answers again`);
      })
      .catch((err: unknown) => {
        pages.delete(e.name);
        if (!failing.has(e.name) && !stopped)
          opts.log(`prometheus exporter ${e.name} failed: ${(err as Error).message}`);
        failing.add(e.name);
      })
      .finally(() => running.delete(e.name));
    running.set(e.name, p);
    return p;
  };

  for (const e of exporters) {
    void scrape(e);
    const t = setInterval(() => void scrape(e), e.intervalSeconds * 1000);
    t.unref();
    timers.push(t);
  }

  return {
    names: () => exporters.map((e) => e.name),
    answered: () => exporters.map((e) => e.name).filter((n) => pages.has(n)),
    metrics: (name) => pages.get(name),
    scrapeAll: async () => {
      await Promise.all(exporters.map((e) => scrape(e)));
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearInterval(t);
      await Promise.all(running.values());
    },
  };
}
