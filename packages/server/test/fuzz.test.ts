// Over 500 lines: the table of every route's malformed inputs is the test, kept whole so that a
// new route cannot be left out of it.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { buildCsr } from '../../agent/src/serve/csr.js';
import { routeTable } from '../src/http/server.js';
import { CHECKDATA_FIXTURE } from '../../../test/support/fixtures.js';
import { faceOf, type Face } from '../src/http/errors.js';
import { databaseKinds } from '../../../test/support/databases.js';
import { systemContext } from '../src/audit/service.js';
import { ADMIN_PASSWORD } from '../../../test/support/harness.js';
import { startListening, type ListeningServer } from '../../../test/support/listening.js';
import { rng } from '../../../test/support/random.js';

// A bounded, seeded fuzz test of every route the server answers: each operation of the served
// OpenAPI document and each route of Fastify's route table (the faces the document leaves out),
// with malformed input of each class, as an administrator and anonymously, through `inject`,
// plus malformed HTTP over a real TLS socket. No answer may be a 5xx, every error must be in its
// face's format, and the process must answer afterwards. Routes added later are covered without
// a change here.

const SEED = 0x5eed_f022;
/** The answer a case waits for at most; a live stream (SSE) never ends and is left open. */
const CASE_TIMEOUT_MS = 5_000;

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
const METHODS: Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  format?: string;
  minimum?: number;
  maximum?: number;
  $ref?: string;
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

/** One request of the fuzz test. */
interface Case {
  cls: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  payload?: string;
  auth: boolean;
  /** Sent over HTTPS with the enrolled agent's client certificate instead of `inject`. */
  agent?: boolean;
}

/** What the cases of one operation are built with besides its schema. */
interface Context {
  r: () => number;
  resolve: (s: Schema | undefined) => Schema | undefined;
  /** A value for a path parameter of the plausible request (an existing agent's id, say). */
  param: (path: string) => string;
  /** A plausible body where the schema gives none, or too little (a check-data document). */
  body: (path: string) => Record<string, unknown> | undefined;
  /** Whether the operation is an agent's, authenticated by its client certificate. */
  agent: boolean;
}

/** A finding: a request whose answer broke a rule. */
interface Finding {
  rule: string;
  request: string;
  status: number;
  body: string;
}

// Values of each malformed class.
const CONTROL = [
  'a\u0000b',
  '\u0001\u0002\u001f',
  'line\r\nbreak',
  '\u007f',
  '\u202e\ufeff',
  '\ud800',
];
/** Control characters, a bidirectional override and a lone surrogate, percent-encoded. */
const ENCODED_CONTROL = ['%00', 'a%01b', '%0D%0A', '%7F', '%E2%80%AE', '%ED%A0%80', '%1F'];
const NUMBERS = [-1, 0, -2147483649, 2 ** 53 + 2, 2 ** 63, 1e308, -1e308, 0.5, Number.MIN_VALUE];
const NUMBER_TEXTS = [
  '-1',
  '0',
  '1e999',
  '-1e999',
  'NaN',
  'Infinity',
  '9'.repeat(400),
  '0x10',
  '1.5',
  '',
];
const TIMES = [
  '1970-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00Z',
  '2026-02-30T25:61:61Z',
  'not-a-time',
  '1e20',
  '-1',
];
const WRONG_TYPES: unknown[] = [null, true, 12345, -0.5, 'text', [], {}, [1, 'a', null], { a: {} }];
const HUGE = 'x'.repeat(70_000);
const deep = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** A deterministic UUID from the seeded source. */
const uuid = (r: () => number): string => {
  const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
};

/** A plausible value for a schema: the base that single fields are then broken in. */
function sample(schema: Schema | undefined, r: () => number, depth = 0): unknown {
  if (!schema || depth > 4) return 'x';
  if (schema.enum?.length) return schema.enum[0];
  const alt = schema.anyOf ?? schema.oneOf;
  if (alt?.length) return sample(alt[0], r, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of schema.required ?? []) out[k] = sample(schema.properties?.[k], r, depth + 1);
      return out;
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    default:
      if (schema.format === 'date-time') return new Date(1_780_000_000_000).toISOString();
      if (schema.format === 'uuid') return uuid(r);
      return 'fuzz';
  }
}

/** Malformed values for one field of a schema, of every class. */
function badValues(schema: Schema | undefined, r: () => number): unknown[] {
  const out: unknown[] = [pick(r, WRONG_TYPES), pick(r, CONTROL), HUGE];
  out.push(pick(r, NUMBERS), pick(r, TIMES));
  if (schema?.type === 'array' || schema?.type === 'object')
    out.push(
      Array.from({ length: 5000 }, (_, i) => i),
      JSON.parse(deep(200)),
    );
  return out;
}

/** A concrete URL for a find-my-way pattern or an OpenAPI path, each parameter given `value`. */
function concrete(pattern: string, value: () => string): string {
  if (pattern.includes('{')) return pattern.replace(/\{[^}]+\}/g, () => value());
  return pattern
    .replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, () => value())
    .replace(/::/g, ':')
    .replace(/\*$/, 'x');
}

const hasParams = (pattern: string) => /\{[^}]+\}|:[A-Za-z0-9_]+/.test(pattern);

/** Path parameter values of every class, percent-encoded as a client would send them. */
const PATH_VALUES = [
  '%00',
  'a%01b',
  '%0d%0a',
  'x'.repeat(300),
  '..%2F..%2Fetc',
  '-1',
  '1e999',
  '%E2%80%AE',
  '%C3%28',
  '%20',
  '9'.repeat(40),
];

/** The cases for one operation of the document. */
function operationCases(method: Method, path: string, op: Operation, ctx: Context): Case[] {
  const { r, resolve } = ctx;
  const cases: Case[] = [];
  const params = op.parameters ?? [];
  const query = params.filter((p) => p.in === 'query');
  const body = resolve(op.requestBody?.content?.['application/json']?.schema);
  const formBody = op.requestBody?.content?.['application/x-www-form-urlencoded'];
  // Numeric query parameters at their minimum: a long poll's `wait=0` answers at once.
  const numeric = query
    .filter(
      (p) => /^(integer|number)$/.test(String(p.schema?.type)) && p.schema?.minimum !== undefined,
    )
    .map((p) => `${p.name}=${p.schema!.minimum}`);
  const path0 = concrete(path, () => ctx.param(path));
  const url = numeric.length ? `${path0}?${numeric.join('&')}` : path0;
  const base = ctx.body(path) ?? (sample(body, r) as Record<string, unknown> | undefined);
  const json = (v: unknown) => JSON.stringify(v);
  const withBody = (payload: string, extra: Record<string, string> = {}) => ({
    headers: { 'content-type': 'application/json', ...extra },
    payload,
  });
  // As the administrator, so that handlers are reached; anonymously for a third of the cases.
  // An agent's operation is sent with its certificate, and without one for a third of the cases.
  const add = (cls: string, c: Omit<Case, 'cls' | 'auth' | 'method'> & { method?: string }) => {
    cases.push({ cls, method, auth: true, agent: ctx.agent, ...c });
    if (cls === 'plausible' || r() < 0.33) cases.push({ cls, method, auth: false, ...c });
  };

  // A plausible request first: the base that the others break.
  add('plausible', body ? { url, ...withBody(json(base ?? {})) } : { url });

  // Path parameters of every class.
  if (hasParams(path))
    for (const v of PATH_VALUES)
      add('path', { url: concrete(path, () => v), ...(body ? withBody(json(base ?? {})) : {}) });

  // Query parameters: wrong types, out-of-range numbers and times, control characters, repeats.
  for (const p of query) {
    const values = [
      pick(r, NUMBER_TEXTS),
      pick(r, NUMBER_TEXTS),
      pick(r, TIMES),
      pick(r, TIMES),
      pick(r, ENCODED_CONTROL),
      'x'.repeat(5000),
      '%FF',
    ];
    for (const v of values) add('query', { url: `${path0}?${p.name}=${v}` });
    add('query', { url: `${path0}?${p.name}=1&${p.name}=2&${p.name}[]=3` });
  }
  if (query.length === 0) add('query', { url: `${path0}?unknown=%00&limit=-1&from=${TIMES[3]}` });

  // Bodies: wrong types as a whole, each property broken, deep nesting, huge, not JSON.
  if (body || formBody || method === 'POST' || method === 'PUT' || method === 'PATCH') {
    for (const v of WRONG_TYPES) add('body type', { url, ...withBody(json(v)) });
    const props = Object.entries(resolve(body)?.properties ?? {});
    for (const [name, schema] of props)
      for (const v of badValues(resolve(schema), r))
        add('body field', { url, ...withBody(json({ ...(base ?? {}), [name]: v })) });
    // Inside object fields (a check-data document's sections): each key broken, and one key a
    // level further down.
    for (const [name, inner] of Object.entries(base ?? {})) {
      if (!inner || typeof inner !== 'object' || Array.isArray(inner)) continue;
      for (const [key, value] of Object.entries(inner as Record<string, unknown>)) {
        for (const v of badValues(undefined, r).slice(0, 3))
          add('nested field', {
            url,
            ...withBody(json({ ...base, [name]: { ...inner, [key]: v } })),
          });
        const deeper = Array.isArray(value) ? value[0] : value;
        if (deeper && typeof deeper === 'object' && !Array.isArray(deeper)) {
          const keys = Object.keys(deeper);
          if (keys.length === 0) continue;
          const k = pick(r, keys);
          const broken = {
            ...(deeper as Record<string, unknown>),
            [k]: pick(r, [...WRONG_TYPES, ...NUMBERS, ...TIMES, HUGE]),
          };
          add('nested field', {
            url,
            ...withBody(
              json({
                ...base,
                [name]: {
                  ...inner,
                  [key]: Array.isArray(value) ? [broken, ...value.slice(1)] : broken,
                },
              }),
            ),
          });
        }
      }
    }
    add('deep nesting', { url, ...withBody(deep(20_000)) });
    add('deep nesting', { url, ...withBody(deepObject(5_000)) });
    add('deep nesting', {
      url,
      ...withBody(json({ ...(base ?? {}), nested: JSON.parse(deep(500)) })),
    });
    add('huge', { url, ...withBody(json({ ...(base ?? {}), huge: 'y'.repeat(200_000) })) });
    add('huge', { url, ...withBody(json(Array.from({ length: 20_000 }, (_, i) => ({ i })))) });
    add('not JSON', { url, ...withBody('{"a": ') });
    add('not JSON', { url, ...withBody('\u0000\u0001') });
    add('not JSON', { url, ...withBody('') });
    add('not JSON', {
      url,
      ...withBody('{"__proto__": {"admin": true}, "constructor": {"prototype": {}}}'),
    });
    add('not JSON', { url, ...withBody(json(base ?? {}).replace(/}$/, ',"a":1e99999}')) });
    for (const ct of [
      'text/plain',
      'application/xml',
      'application/json; charset=utf-16',
      'application/json; charset=',
      ';;;',
      '',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ])
      add('bad header', { url, headers: { 'content-type': ct }, payload: json(base ?? {}) });
    add('bad header', {
      url,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: json(base ?? {}),
    });
    if (formBody) {
      add('form', {
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'a=%00&a=%FF&grant_type=' + HUGE,
      });
      add('form', {
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '%%%&&&==',
      });
    }
  }
  return cases;
}

/** Header cases every route gets, with and without a body. */
function headerCases(method: string, url: string, r: () => number): Case[] {
  const out: Case[] = [];
  const headers: Record<string, string>[] = [
    { authorization: 'Bearer ' + 'a'.repeat(600) },
    { authorization: 'Basic !!!' },
    { authorization: 'Bearer' },
    { authorization: 'X-OITC-API ' + 'k'.repeat(300) },
    { cookie: 'vigil_session=' + 'z'.repeat(600) + '; vigil_csrf=;;' },
    { 'x-correlation-id': 'c'.repeat(300) },
    { 'x-correlation-id': '\u00e9t\u00e9' },
    { 'idempotency-key': 'k'.repeat(300) },
    { 'idempotency-key': '' },
    { 'idempotency-key': '\u00ff\u00fe' },
    { accept: 'application/xml' },
    { 'last-event-id': '-1' },
    { 'last-event-id': '9'.repeat(100) },
    { 'x-csrf-token': 'x' },
    { 'content-length': '5' },
  ];
  for (const h of headers)
    out.push({ cls: 'bad header', method, url, headers: h, auth: r() < 0.5 });
  return out;
}

/** Methods a route does not have, each on its own. */
function methodCases(url: string, has: Set<string>): Case[] {
  return METHODS.filter((m) => !has.has(m)).flatMap((m) => [
    { cls: 'method', method: m, url, auth: true },
    { cls: 'method', method: m, url, auth: false },
  ]);
}

/** Why an error answer is not in the format of its face, or undefined when it is. */
function formatProblem(
  face: Face,
  status: number,
  headers: Record<string, unknown>,
  text: string,
): string | undefined {
  if (status < 400) return undefined;
  if (!/application\/json/.test(String(headers['content-type'] ?? '')))
    return `content-type ${String(headers['content-type'])}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return 'the body is not JSON';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body is not an object';
  switch (face) {
    case 'native': {
      const e = body.error as Record<string, unknown> | undefined;
      if (Object.keys(body).join() !== 'error' || typeof e !== 'object' || e === null)
        return 'not the native envelope';
      const keys = Object.keys(e).sort().join();
      if (keys !== 'code,correlation_id,fault,human_message,retryable')
        return `envelope keys ${keys}`;
      if (typeof e.code !== 'string' || typeof e.human_message !== 'string')
        return 'envelope types';
      return undefined;
    }
    case 'oauth':
      return typeof body.error === 'string' &&
        Object.keys(body).every((k) => k === 'error' || k === 'error_description')
        ? undefined
        : 'not an RFC 6749 error';
    case 'agentconnector':
    case 'director':
      // openITCOCKPIT's 405 is CakePHP's own body, reproduced on purpose.
      if (face === 'agentconnector' && status === 405 && body.message === 'Method Not Allowed')
        return undefined;
      return Object.keys(body).join() === 'error' && typeof body.error === 'string'
        ? undefined
        : 'not {"error": "…"}';
  }
}

/** One raw request over TLS; the answer's status, headers and body, or the empty status 0. */
function rawRequest(
  server: ListeningServer,
  data: Buffer,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = tls.connect(
      { host: '127.0.0.1', port: server.port, ca: server.ca, servername: 'localhost' },
      () => socket.write(data),
    );
    const timer = setTimeout(() => socket.destroy(), CASE_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const head = split < 0 ? text : text.slice(0, split);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      resolve({
        status,
        headers,
        body: split < 0 ? '' : Buffer.from(text.slice(split + 4), 'latin1').toString('utf8'),
      });
    };
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('close', done);
    socket.on('error', () => undefined);
  });
}

/** Malformed requests only a socket can send: Node refuses them before any route. */
function rawCases(paths: string[], r: () => number): { cls: string; data: Buffer; path: string }[] {
  const out: { cls: string; data: Buffer; path: string }[] = [];
  const req = (line: string, headers: string[] = [], body = '') =>
    Buffer.from(
      `${line}\r\n${['Host: localhost', ...headers, 'Connection: close'].join('\r\n')}\r\n\r\n${body}`,
      'latin1',
    );
  for (const path of paths) {
    out.push({ cls: 'raw method', path, data: req(`FOO ${path} HTTP/1.1`) });
    out.push({ cls: 'raw method', path, data: req(`get ${path} HTTP/1.1`) });
    out.push({
      cls: 'raw method',
      path,
      data: req(
        `${pick(r, ['PROPFIND', 'TRACE', 'CONNECT', 'PURGE', 'LINK', 'SEARCH', 'M-SEARCH', 'QUERY'])} ${path} HTTP/1.1`,
      ),
    });
    out.push({
      cls: 'raw header size',
      path,
      data: req(`GET ${path}?q=${'a'.repeat(17_000)} HTTP/1.1`),
    });
    out.push({
      cls: 'raw header size',
      path,
      data: req(`GET ${path} HTTP/1.1`, [`X-Big: ${'b'.repeat(17_000)}`]),
    });
    out.push({
      cls: 'raw header size',
      path,
      data: req(
        `GET ${path} HTTP/1.1`,
        Array.from({ length: 2100 }, (_, i) => `X-H${i}: v`),
      ),
    });
    out.push({
      cls: 'raw header',
      path,
      data: req(`GET ${path} HTTP/1.1`, ['X-Correlation-Id: a\u0000b']),
    });
    out.push({
      cls: 'raw header',
      path,
      data: req(
        `POST ${path} HTTP/1.1`,
        ['Idempotency-Key: k\u0000', 'Content-Type: application/json', 'Content-Length: 2'],
        '{}',
      ),
    });
    out.push({
      cls: 'raw header',
      path,
      data: req(
        `POST ${path} HTTP/1.1`,
        ['Content-Type: application/json\u0001', 'Content-Length: 2'],
        '{}',
      ),
    });
    out.push({
      cls: 'raw header',
      path,
      data: req(`POST ${path} HTTP/1.1`, ['Content-Length: abc'], '{}'),
    });
    out.push({
      cls: 'raw header',
      path,
      data: req(`POST ${path} HTTP/1.1`, ['Content-Length: 2', 'Transfer-Encoding: chunked'], '{}'),
    });
    out.push({
      cls: 'raw header',
      path,
      data: req(
        `POST ${path} HTTP/1.1`,
        ['Transfer-Encoding: chunked', 'Content-Type: application/json'],
        'zz\r\n{}\r\n0\r\n\r\n',
      ),
    });
    out.push({ cls: 'raw header', path, data: req(`GET ${path} HTTP/1.1`, ['Bad Header: x']) });
    out.push({ cls: 'raw request line', path, data: req(`GET ${path} HTTP/9.9`) });
    out.push({
      cls: 'raw header',
      path,
      data: req(`GET ${path} HTTP/1.1`, ['Connection: Upgrade', 'Upgrade: websocket']),
    });
    out.push({ cls: 'raw request line', path, data: req(`GET ${path}\u0000x HTTP/1.1`) });
    out.push({
      cls: 'raw request line',
      path,
      data: Buffer.from(`GET ${path} HTTP/1.1\r\nConnection: close\r\n\r\n`),
    });
  }
  out.push({ cls: 'raw request line', path: '', data: Buffer.from('HELLO\r\n\r\n') });
  out.push({
    cls: 'raw request line',
    path: '',
    data: Buffer.from('\u0016\u0003\u0001garbage\r\n\r\n', 'latin1'),
  });
  out.push({
    cls: 'raw request line',
    path: '',
    data: Buffer.from(`GET /${'p'.repeat(17_000)} HTTP/1.1\r\n\r\n`),
  });
  return out;
}

const AGENT_ID = 'fuzz-agent';
const OITC_UUID = '5eedf022-0000-4000-8000-00000000f022';

// Both engines: PostgreSQL refuses some values SQLite stores (a NUL in text, say).
for (const kind of await databaseKinds())
  describe(`fuzz: every route with malformed input on ${kind.name}`, () => {
    let server: ListeningServer;
    let token: string;
    const findings: Finding[] = [];
    let tried = 0;
    let agentTls: https.Agent | undefined;
    let oitcPassword = '';
    /** How many answers had each status: shows that handlers were reached, not only refusals. */
    const statuses = new Map<number, number>();
    const count = (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1);

    let logins = 0;
    /**
     * Opens an administrator's session. A case may end the session (a logout) or spend the
     * user's failed attempts (a wrong current password), which the login throttle then counts
     * against that user and address: each session is a new administrator, from an address of
     * its own.
     */
    const login = async () => {
      const n = logins++;
      const username = n === 0 ? 'admin' : `fuzz-admin-${n}`;
      if (n > 0)
        await server.vigil.identity.createUser(
          { username, password: ADMIN_PASSWORD, roles: ['admin'] },
          systemContext('test'),
        );
      const res = await server.vigil.http.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: `10.250.${(n >> 8) & 255}.${n & 255}`,
        payload: { username, password: ADMIN_PASSWORD },
      });
      assert.equal(res.statusCode, 200, res.body);
      token = (res.json() as { access_token: string }).access_token;
    };

    // A built web console: GETs outside the faces are its pages (200), every other method on
    // them a native 404/405.
    const consoleDir = mkdtempSync(path.join(os.tmpdir(), 'vigil-fuzz-console-'));
    mkdirSync(path.join(consoleDir, 'assets'));
    writeFileSync(path.join(consoleDir, 'index.html'), '<!doctype html><title>Vigil</title>');
    after(() => rmSync(consoleDir, { recursive: true, force: true }));

    before(async () => {
      server = await startListening(kind, {
        VIGIL_AGENTS_COMMAND_TIMEOUT_SECONDS: '1',
        VIGIL_SERVER_BODY_LIMIT_BYTES: '65536',
        VIGIL_SERVER_CONSOLE_DIR: consoleDir,
      });
      await login();
      // An enrolled native agent, whose certificate reaches the agents' own routes.
      const created = await server.vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents',
        headers: { authorization: `Bearer ${token}` },
        payload: { id: AGENT_ID, name: 'fuzz agent' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const enrolled = await server.vigil.http.inject({
        method: 'POST',
        url: '/api/v1/agents/enroll',
        payload: {
          token: (created.json() as { enrollment_token: string }).enrollment_token,
          csr: buildCsr(privateKey, AGENT_ID),
          hostname: AGENT_ID,
        },
      });
      assert.equal(enrolled.statusCode, 201, enrolled.body);
      agentTls = new https.Agent({
        keepAlive: true,
        maxSockets: 1,
        ca: server.ca,
        cert: (enrolled.json() as { certificate: string }).certificate,
        key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        servername: 'localhost',
      });
      // An approved openITCOCKPIT push agent, whose credentials reach the connector's handlers.
      const registered = await server.vigil.http.inject({
        method: 'POST',
        url: '/agentconnector/register_agent.json',
        payload: { agentuuid: OITC_UUID, password: '', hostname: 'fuzz-oitc' },
      });
      assert.equal(registered.statusCode, 201, registered.body);
      oitcPassword = (registered.json() as { password: string }).password;
      const approved = await server.vigil.http.inject({
        method: 'POST',
        url: `/api/v1/agents/pending/${OITC_UUID}/approve`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(approved.statusCode, 200, approved.body);
    });
    after(async () => {
      agentTls?.destroy();
      await server.close();
    });

    /** One case over HTTPS with the agent's certificate: the answer, or the error. */
    const overTls = (c: Case, headers: Record<string, string>) =>
      new Promise<{ statusCode: number; headers: Record<string, unknown>; body: string } | Error>(
        (resolve) => {
          const req = https.request(
            {
              host: '127.0.0.1',
              port: server.port,
              method: c.method,
              path: c.url,
              headers,
              agent: agentTls,
              timeout: CASE_TIMEOUT_MS,
            },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (chunk: Buffer) => chunks.push(chunk));
              res.on('end', () =>
                resolve({
                  statusCode: res.statusCode ?? 0,
                  headers: res.headers,
                  body: Buffer.concat(chunks).toString('utf8'),
                }),
              );
              res.on('error', resolve);
            },
          );
          // A long poll that is still waiting: nothing to judge.
          req.on('timeout', () => {
            req.destroy();
            resolve({ statusCode: 200, headers: {}, body: '' });
          });
          req.on('error', resolve);
          req.end(c.payload);
        },
      );

    /** Sends one case through `inject` and records what broke a rule. */
    const run = async (c: Case) => {
      tried++;
      const headers: Record<string, string> = { ...c.headers };
      if (c.auth && !c.agent && headers.authorization === undefined)
        headers.authorization = `Bearer ${token}`;
      if (c.agent) {
        if (c.payload !== undefined && headers['content-length'] === undefined)
          headers['content-length'] = String(Buffer.byteLength(c.payload));
        return judge(c, headers, await overTls(c, headers));
      }
      // The answer as a stream, so that a live stream (SSE), which never ends, can be judged by its
      // head and left.
      const res = await server.vigil.http
        .inject({
          method: c.method as Method,
          url: c.url,
          headers,
          payloadAsStream: true,
          ...(c.payload !== undefined ? { payload: c.payload } : {}),
        })
        .then(async (answer) => {
          const stream = answer.stream();
          if (String(answer.headers['content-type']).startsWith('text/event-stream')) {
            stream.destroy();
            return { statusCode: answer.statusCode, headers: answer.headers, body: '' };
          }
          const chunks: Buffer[] = [];
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          return {
            statusCode: answer.statusCode,
            headers: answer.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          };
        })
        .catch((err: Error) => err);
      return judge(c, headers, res);
    };

    /** Records what an answer broke. */
    const judge = async (
      c: Case,
      headers: Record<string, string>,
      res: { statusCode: number; headers: Record<string, unknown>; body: string } | Error,
    ) => {
      const request = `${c.method} ${c.url.length > 300 ? `${c.url.slice(0, 300)}…` : c.url} ${JSON.stringify(
        Object.fromEntries(
          Object.entries(headers).map(([k, v]) => [
            k,
            k === 'authorization' && c.auth ? 'Bearer <admin>' : v.slice(0, 80),
          ]),
        ),
      )} ${c.payload === undefined ? '' : JSON.stringify(c.payload.slice(0, 200))}`;
      if (res instanceof Error) {
        findings.push({ rule: `inject failed: ${res.message}`, request, status: 0, body: '' });
        return;
      }
      count(res.statusCode);
      if (res.statusCode >= 500)
        findings.push({
          rule: `${c.cls}: 5xx`,
          request,
          status: res.statusCode,
          body: res.body.slice(0, 300),
        });
      const problem =
        c.method === 'HEAD'
          ? undefined
          : formatProblem(faceOf(c.url), res.statusCode, res.headers, res.body);
      if (problem)
        findings.push({
          rule: `${c.cls}: ${problem}`,
          request,
          status: res.statusCode,
          body: res.body.slice(0, 300),
        });
      // A case may end the administrator's session (logout, a password change): log in again.
      if (c.auth && res.statusCode === 401) await login();
    };

    test(
      'every operation and route, every class of malformed input',
      { timeout: 240_000 },
      async (t) => {
        const r = rng(SEED);
        const docRes = await server.vigil.http.inject({
          method: 'GET',
          url: '/api/v1/openapi.json',
        });
        assert.equal(docRes.statusCode, 200);
        const doc = docRes.json() as {
          paths: Record<string, Record<string, Operation>>;
          components?: { schemas?: Record<string, Schema> };
        };
        const resolve = (s: Schema | undefined): Schema | undefined => {
          const ref = s?.$ref;
          if (!ref) return s;
          return doc.components?.schemas?.[ref.split('/').pop()!];
        };

        const document = () => JSON.parse(readFileSync(CHECKDATA_FIXTURE, 'utf8')) as unknown;
        const ctxFor = (op: Operation): Context => ({
          r,
          resolve,
          agent:
            (op as { security?: Record<string, unknown>[] }).security?.[0]?.agentCertificate !==
            undefined,
          param: (path) => (path.startsWith('/api/v1/agents/') ? AGENT_ID : uuid(r)),
          body: (path) => {
            if (path.endsWith('/checkdata'))
              return { collected_at: Math.floor(Date.now() / 1000), checkdata: document() };
            if (path === '/agentconnector/submit_checkdata.json')
              return { agentuuid: OITC_UUID, password: oitcPassword, checkdata: document() };
            if (path.startsWith('/agentconnector/'))
              return { agentuuid: OITC_UUID, password: oitcPassword, packageinfo: { apt: [] } };
            return undefined;
          },
        });

        const cases: Case[] = [];
        const documented = new Set<string>();
        for (const [path, ops] of Object.entries(doc.paths))
          for (const [m, op] of Object.entries(ops)) {
            const method = m.toUpperCase() as Method;
            documented.add(`${method} ${path}`);
            cases.push(...operationCases(method, path, op, ctxFor(op)));
          }

        // The route table: every route, the faces the document leaves out included, and the
        // methods each path does not have.
        const byPattern = new Map<string, Set<string>>();
        for (const route of routeTable(server.vigil.http)) {
          const set = byPattern.get(route.url) ?? new Set<string>();
          set.add(route.method);
          byPattern.set(route.url, set);
        }
        const toOpenApi = (u: string) =>
          u
            .split('::')
            .map((part) => part.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}'))
            .join(':');
        for (const [pattern, methods] of byPattern) {
          const url = concrete(pattern, () => uuid(r));
          cases.push(...methodCases(url, methods), ...headerCases(pick(r, [...methods]), url, r));
          for (const method of methods) {
            if (documented.has(`${method} ${toOpenApi(pattern)}`)) continue;
            cases.push(...operationCases(method as Method, pattern, {}, ctxFor({})));
          }
        }
        // Paths no route has, under each face.
        for (const p of [
          '/api/v1/nope',
          '/api/v1/users/%FF%FE',
          '/agentconnector/nope.json',
          '/oauth/nope',
          '/director/host',
          '/api/dashboard',
          '/' + 'n'.repeat(5000),
          '/assets/missing.js',
          '/assets/%2e%2e/%2e%2e/etc/passwd',
        ])
          for (const m of ['GET', 'POST', 'DELETE'])
            cases.push({
              cls: 'unknown path',
              method: m,
              url: p,
              auth: true,
              headers: { 'content-type': 'application/json' },
              ...(m === 'POST' ? { payload: '{}' } : {}),
            });
        // An openITCOCKPIT body over that face's 16 MB limit, once.
        cases.push({
          cls: 'huge',
          method: 'POST',
          url: '/agentconnector/submit_checkdata.json',
          auth: false,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({ checkdata: 'z'.repeat(17 * 1024 * 1024) }),
        });

        for (const c of cases) await run(c);

        // Over a real TLS connection: what Node refuses before any route.
        const samplePaths = [
          '/api/v1/health',
          '/api/v1/users',
          `/api/v1/users/${uuid(r)}`,
          '/agentconnector/register_agent.json',
          '/oauth/token',
          '/metrics',
          '/health',
          ...[...byPattern.keys()].filter(() => r() < 0.1).map((p) => concrete(p, () => uuid(r))),
        ];
        for (const c of rawCases(samplePaths, r)) {
          tried++;
          const res = await rawRequest(server, c.data);
          count(res.status);
          const request = JSON.stringify(c.data.toString('latin1').slice(0, 200));
          if (res.status === 0) {
            findings.push({
              rule: `${c.cls}: no HTTP answer`,
              request,
              status: 0,
              body: res.body.slice(0, 200),
            });
            continue;
          }
          if (res.status >= 500)
            findings.push({
              rule: `${c.cls}: 5xx`,
              request,
              status: res.status,
              body: res.body.slice(0, 300),
            });
          const problem = formatProblem(faceOf(c.path), res.status, res.headers, res.body);
          if (problem)
            findings.push({
              rule: `${c.cls}: ${problem}`,
              request,
              status: res.status,
              body: res.body.slice(0, 300),
            });
        }

        t.diagnostic(`fuzz: ${tried} cases`);
        t.diagnostic(
          `fuzz statuses: ${[...statuses]
            .sort((a, b) => a[0] - b[0])
            .map(([s, n]) => `${s}×${n}`)
            .join(' ')}`,
        );
        for (const f of findings.slice(0, 100))
          t.diagnostic(`${f.rule}: ${f.request} -> ${f.status} ${JSON.stringify(f.body)}`);
        assert.deepEqual(
          findings.map((f) => `${f.rule}: ${f.request}`),
          [],
        );
      },
    );

    test('the process still answers afterwards', async () => {
      const res = await rawRequest(
        server,
        Buffer.from('GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      );
      assert.equal(res.status, 200, res.body);
      const injected = await server.vigil.http.inject({ method: 'GET', url: '/health' });
      assert.equal(injected.statusCode, 200);
    });
  });
