import { parseIni, parseIniBool } from '../ini.js';

/** One exporter of `prometheus_exporters.ini`, which the agent scrapes and serves again. */
export interface PrometheusExporter {
  /** The section name: the exporter's name in `GET /prometheus` and `prometheus_exporters`. */
  readonly name: string;
  readonly method: 'http' | 'https';
  readonly port: number;
  /** The path of its metrics, e.g. `/metrics`. */
  readonly path: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
}

/**
 * Defaults, as in the openITCOCKPIT agent (`timeout` 15 s). It has no default interval (a missing
 * one stops that exporter); the agent's own default collection interval is used instead.
 */
export const EXPORTER_DEFAULTS = { intervalSeconds: 30, timeoutSeconds: 15 } as const;

/** A problem in a `prometheus_exporters.ini`, naming the exporter and the line. */
export class PrometheusExportersError extends Error {
  override name = 'PrometheusExportersError';
}

const KEYS = new Set(['enabled', 'method', 'port', 'path', 'interval', 'timeout']);

/**
 * Parses and validates a `prometheus_exporters.ini`: one section per exporter with `enabled`,
 * `method` (`http` or `https`; anything else means `http`, as in the openITCOCKPIT agent), `port`,
 * `path`, `interval` and `timeout` (seconds). Only exporters with `enabled = True` are returned
 * (the openITCOCKPIT agent's default is off); a `[default]` section is ignored. Throws
 * `PrometheusExportersError` for malformed INI, an unknown key, a missing port or path, a bad
 * number or boolean, or a timeout longer than the interval.
 */
export function parsePrometheusExporters(text: string): PrometheusExporter[] {
  let doc;
  try {
    doc = parseIni(text);
  } catch (err) {
    throw new PrometheusExportersError((err as Error).message);
  }
  const out: PrometheusExporter[] = [];
  for (const section of doc.values()) {
    if (section.name === 'default') continue;
    const where = `exporter [${section.name}]`;
    for (const [key, { line }] of section.values)
      if (!KEYS.has(key))
        throw new PrometheusExportersError(`${where}, line ${line}: unknown key "${key}"`);
    const get = (k: string) => section.values.get(k);
    const int = (key: string, min: number, max: number, def?: number): number => {
      const e = get(key);
      if (!e) {
        if (def !== undefined) return def;
        throw new PrometheusExportersError(`${where}, line ${section.line}: "${key}" is missing`);
      }
      const v = Number(e.value.trim());
      if (!/^\d+$/.test(e.value.trim()) || v < min || v > max)
        throw new PrometheusExportersError(
          `${where}, line ${e.line}: "${key}" must be a whole number from ${min} to ${max}, got "${e.value}"`,
        );
      return v;
    };
    const enabledEntry = get('enabled');
    const enabled = enabledEntry ? parseIniBool(enabledEntry.value) : false;
    if (enabled === undefined)
      throw new PrometheusExportersError(
        `${where}, line ${enabledEntry!.line}: "enabled" must be True or False, got "${enabledEntry!.value}"`,
      );
    const port = int('port', 1, 65_535);
    const pathEntry = get('path');
    const path = pathEntry?.value.trim() ?? '';
    if (path === '')
      throw new PrometheusExportersError(
        `${where}, line ${pathEntry?.line ?? section.line}: "path" is missing or empty`,
      );
    if (!path.startsWith('/') || /\s/.test(path))
      throw new PrometheusExportersError(
        `${where}, line ${pathEntry!.line}: "path" must start with / and hold no spaces, got "${path}"`,
      );
    const intervalSeconds = int('interval', 1, 86_400, EXPORTER_DEFAULTS.intervalSeconds);
    const timeoutSeconds = int(
      'timeout',
      1,
      86_400,
      Math.min(EXPORTER_DEFAULTS.timeoutSeconds, intervalSeconds),
    );
    if (timeoutSeconds > intervalSeconds)
      throw new PrometheusExportersError(
        `${where}, line ${get('timeout')?.line ?? section.line}: timeout (${timeoutSeconds} s) is longer than ` +
          `the interval (${intervalSeconds} s)`,
      );
    if (!enabled) continue;
    out.push({
      name: section.name,
      method: get('method')?.value.trim().toLowerCase() === 'https' ? 'https' : 'http',
      port,
      path,
      intervalSeconds,
      timeoutSeconds,
    });
  }
  return out;
}
