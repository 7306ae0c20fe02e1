import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { VigilError } from '../errors.js';

/**
 * The paths of the faces: each keeps its own 404s, the console's fallback never answers under
 * them.
 */
const FACE_PREFIXES = [
  '/api',
  '/director',
  '/icingaweb2',
  '/icingaweb',
  '/oauth',
  '/agentconnector',
  '/metrics',
  '/health',
];

/** Whether `urlPath` (without the query) belongs to a face rather than to the console. */
export function isFacePath(urlPath: string): boolean {
  const p = urlPath.toLowerCase();
  return FACE_PREFIXES.some((f) => p === f || p.startsWith(`${f}/`));
}

/** The headers of every console response: no inline script, no framing, no sniffing. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Vite's hashed file names never change content: cached for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** `index.html` and the other unhashed files: checked with the server on every use. */
const NO_CACHE = 'no-cache';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

/** Types worth compressing (text); images and fonts are compressed already. */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.map', '.svg', '.txt']);

/** Whether the client takes gzip (`Accept-Encoding`, not refused with `q=0`). */
function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value.split(',').some((part) => {
    const [name = '', ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    if (name !== 'gzip' && name !== '*') return false;
    const q = params.find((x) => x.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** What `/` answers when the console was not built. */
const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>
<body><h1>The Vigil web console is not built</h1>
<p>Build it from the repository root with <code>npm run build</code> (it builds
<code>packages/web/dist</code>), or point <code>server.console_dir</code> at a built console, then
reload this page. The API answers at <code>/api/v1/</code> meanwhile.</p></body></html>
`;

/**
 * The console's directory of this installation: `packages/web/dist` beside the server package,
 * found from this module (the bundle `packages/server/dist/vigil.js`, or the source under tsx).
 */
export function defaultConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (path.basename(dir) === 'server' && path.basename(path.dirname(dir)) === 'packages')
      return path.join(path.dirname(dir), 'web', 'dist');
    dir = path.dirname(dir);
  }
  return path.resolve('packages', 'web', 'dist');
}

/** The file under `root` that a URL path names, or undefined when it would leave `root`. */
function fileOf(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..' || s === '.')) return undefined;
  const file = path.resolve(root, `.${decoded}`);
  return file === root || file.startsWith(root + path.sep) ? file : undefined;
}

const notFound = (urlPath: string) =>
  new VigilError('not_found', `no file ${urlPath}`, { code: 'route.not_found' });

/**
 * Serves the web console: the files of its built directory, `index.html` for every other GET
 * outside the faces (the single-page application routes itself), hashed assets cached for good,
 * everything else revalidated, and the console's security headers on each. The server calls it
 * for requests no route matched (`handles` first).
 */
export function createConsole(opts: { dir: string }) {
  const root = path.resolve(opts.dir);
  const indexFile = path.join(root, 'index.html');

  /**
   * Gzipped copies, made once per file and version (size and modification time): the console's
   * JavaScript is a few hundred kilobytes that compress to a third.
   */
  const gzipped = new Map<string, { version: string; body: Buffer }>();
  async function compressed(file: string, body: Buffer): Promise<Buffer> {
    const st = await stat(file);
    const version = `${st.size}:${st.mtimeMs}`;
    const kept = gzipped.get(file);
    if (kept?.version === version) return kept.body;
    const gz = gzipSync(body, { level: 9 });
    gzipped.set(file, { version, body: gz });
    return gz;
  }

  /** Sends a file's bytes, gzipped when that is worth it and the client takes it. */
  async function send(
    request: FastifyRequest,
    reply: FastifyReply,
    file: string,
    body: Buffer,
  ): Promise<FastifyReply> {
    const ext = path.extname(file).toLowerCase();
    if (!COMPRESSIBLE.has(ext) || body.length < 1024) return reply.send(body);
    void reply.header('vary', 'accept-encoding');
    if (!acceptsGzip(request.headers['accept-encoding'])) return reply.send(body);
    return reply.header('content-encoding', 'gzip').send(await compressed(file, body));
  }

  async function regularFile(file: string): Promise<boolean> {
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
    }
  }

  return {
    /** The directory served. */
    dir: root,

    /** Whether the console is built (its `index.html` exists). */
    built: (): boolean => existsSync(indexFile),

    /** Whether a request no route matched is the console's: a GET or HEAD outside the faces. */
    handles(method: string, urlPath: string): boolean {
      return (method === 'GET' || method === 'HEAD') && !isFacePath(urlPath);
    },

    /**
     * Answers a console request. @throws VigilError not_found for a missing asset or a path
     * that leaves the console's directory.
     */
    async serve(request: FastifyRequest, reply: FastifyReply, urlPath: string): Promise<unknown> {
      void reply.headers(CONSOLE_HEADERS);
      const file = fileOf(root, urlPath);
      if (file === undefined) throw notFound(urlPath);
      const asset = urlPath.startsWith('/assets/');
      if (urlPath !== '/' && (await regularFile(file))) {
        const body = await readFile(file);
        void reply
          .code(200)
          .header('cache-control', asset ? IMMUTABLE : NO_CACHE)
          .type(TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
        return send(request, reply, file, body);
      }
      // A missing asset is an error, not a page: a stale index asking for an old bundle must
      // see it fail.
      if (asset) throw notFound(urlPath);
      let index: Buffer;
      try {
        index = await readFile(indexFile);
      } catch {
        request.log.warn({ dir: root }, 'the web console is not built');
        return reply
          .code(503)
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(NOT_BUILT);
      }
      return reply
        .code(200)
        .header('cache-control', NO_CACHE)
        .type('text/html; charset=utf-8')
        .send(index);
    },
  };
}

/** The web console. */
export type WebConsole = ReturnType<typeof createConsole>;
