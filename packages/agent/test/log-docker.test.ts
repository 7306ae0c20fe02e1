import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { createDockerSource, dockerAvailable } from '../src/logs/docker.js';
import { DockerLogDecoder, dockerSince, parseStampedLine } from '../src/logs/docker-stream.js';
import { FIXTURES } from './support.js';
import { collectingSink, sleep, tempDir, waitFor } from './log-support.js';

const DIR = path.join(FIXTURES, 'logs', 'docker');
const WEB_BIN = readFileSync(path.join(DIR, 'web.bin'));
const SHELL_BIN = readFileSync(path.join(DIR, 'shell.bin'));
const LIST = JSON.parse(readFileSync(path.join(DIR, 'containers.json'), 'utf8')) as {
  Id: string;
  Names: string[];
  State: string;
}[];
const [WEB, SHELL] = LIST.map((c) => c.Id) as [string, string];

const WEB_LINES = [
  ['stdout', '172.17.0.1 - - [04/Dec/2026:02:00:00 +0000] "GET / HTTP/1.1" 200 615'],
  [
    'stderr',
    '2026/12/04 02:00:01 [error] 29#29: *3 open() "/usr/share/nginx/html/x" failed (2: No such file or directory)',
  ],
  ['stdout', 'level=warn msg="slow upstream" ms=812'],
  ['stdout', '{"level":"info","msg":"split line"}'],
  ['stderr', 'plain stderr line'],
];

test('DockerLogDecoder: the multiplexed stream, split at every byte boundary, gives the same lines', () => {
  for (const size of [1, 3, 7, 8, 9, 64, WEB_BIN.length]) {
    const d = new DockerLogDecoder(false);
    const lines = [];
    for (let at = 0; at < WEB_BIN.length; at += size)
      lines.push(...d.push(WEB_BIN.subarray(at, at + size), 0));
    lines.push(...d.end(0));
    assert.deepEqual(
      lines.map((l) => [l.stream, l.message]),
      WEB_LINES,
      `chunks of ${size}`,
    );
    assert.equal(lines[0]!.time, '2026-12-04T02:00:00.000000001Z');
    assert.equal(lines[2]!.time, '2026-12-04T02:00:02.500000000Z');
    assert.equal(lines[2]!.timestamp, Date.UTC(2026, 11, 4, 2, 0, 2, 500));
  }
});

test('DockerLogDecoder: a TTY stream is raw stdout; an unterminated last line comes at the end', () => {
  const d = new DockerLogDecoder(true);
  const lines = [...d.push(SHELL_BIN, 0), ...d.push(Buffer.from('2026-12-04T02:00:09Z exit'), 0)];
  assert.deepEqual(
    lines.map((l) => [l.stream, l.message]),
    [
      ['stdout', 'root@4f1c:/# ls'],
      ['stdout', 'bin  etc  usr'],
    ],
  );
  assert.deepEqual(
    d.end(0).map((l) => l.message),
    ['exit'],
  );
  // A stdin frame (type 0) is not a log line.
  const m = new DockerLogDecoder(false);
  const header = Buffer.from([0, 0, 0, 0, 0, 0, 0, 4]);
  assert.deepEqual(m.push(Buffer.concat([header, Buffer.from('x\ny\n')]), 0), []);
});

test('parseStampedLine and dockerSince: times with and without a fraction, lines without one', () => {
  assert.equal(
    dockerSince('2026-12-04T02:00:02.500000000Z'),
    `${Date.UTC(2026, 11, 4, 2, 0, 2) / 1000}.500000000`,
  );
  assert.deepEqual(parseStampedLine('stderr', '2026-12-04T02:00:02Z x', 5), {
    stream: 'stderr',
    time: '2026-12-04T02:00:02.000000000Z',
    timestamp: Date.UTC(2026, 11, 4, 2, 0, 2),
    message: 'x',
  });
  assert.deepEqual(parseStampedLine('stdout', 'no time here', 5), {
    stream: 'stdout',
    time: '',
    timestamp: 5,
    message: 'no time here',
  });
});

/**
 * An Engine API over a unix socket that answers with the recorded bytes: the container list,
 * inspections, and log streams that honour `since` (inclusive, as Docker's) and `tail=0`, and
 * stay open for lines the test adds later.
 */
async function engine() {
  const dir = tempDir('docker');
  const socketPath = path.join(dir, 'docker.sock');
  const logs = new Map<string, Buffer[]>([
    [WEB, [WEB_BIN]],
    [SHELL, [SHELL_BIN]],
  ]);
  const list = structuredClone(LIST);
  const open = new Map<string, http.ServerResponse[]>();
  const requests: string[] = [];
  const frames = (id: string) => {
    // Splits a stored stream back into lines with their times (frames for `web`, raw for `shell`).
    const out: { time: string; bytes: Buffer }[] = [];
    for (const buf of logs.get(id)!) {
      if (id === SHELL) {
        for (const line of buf.toString().split(/(?<=\n)/))
          if (line) out.push({ time: line.slice(0, line.indexOf(' ')), bytes: Buffer.from(line) });
        continue;
      }
      for (let at = 0; at < buf.length;) {
        const len = buf.readUInt32BE(at + 4);
        const payload = buf.subarray(at + 8, at + 8 + len).toString();
        out.push({
          time: /^\S+Z /.test(payload) ? payload.slice(0, payload.indexOf(' ')) : '',
          bytes: buf.subarray(at, at + 8 + len),
        });
        at += 8 + len;
      }
    }
    return out;
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://docker');
    requests.push(`${url.pathname}${url.search}`);
    if (url.pathname === '/_ping') return res.end('OK');
    if (url.pathname === '/containers/json') return res.end(JSON.stringify(list));
    const m = /^\/containers\/([0-9a-f]+)\/(json|logs)$/.exec(url.pathname);
    if (!m || !logs.has(m[1]!)) {
      res.statusCode = 404;
      return res.end(JSON.stringify({ message: 'No such container' }));
    }
    const id = m[1]!;
    if (m[2] === 'json') return res.end(JSON.stringify({ Id: id, Config: { Tty: id === SHELL } }));
    res.setHeader(
      'Content-Type',
      id === SHELL
        ? 'application/vnd.docker.raw-stream'
        : 'application/vnd.docker.multiplexed-stream',
    );
    const since = url.searchParams.get('since');
    let entries = url.searchParams.get('tail') === '0' ? [] : frames(id);
    if (since) {
      // Docker's `since` is inclusive. A frame continuing a line has no time of its own: it goes
      // with the frame before it.
      const [sec, nanos = ''] = since.split('.');
      const from = `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${nanos.padEnd(9, '0')}Z`;
      const norm = (t: string) =>
        t.replace(/(?:\.(\d+))?Z$/, (_, f?: string) => `.${(f ?? '').padEnd(9, '0')}Z`);
      let keep = false;
      entries = entries.filter((e) => {
        if (e.time) keep = norm(e.time) >= from;
        return keep;
      });
    }
    res.write(Buffer.concat(entries.map((e) => e.bytes)));
    open.set(id, [...(open.get(id) ?? []), res]);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return {
    socketPath,
    dir,
    list,
    requests,
    /** Adds bytes to a container's log and sends them to its open streams. */
    add(id: string, bytes: Buffer) {
      logs.get(id)!.push(bytes);
      for (const res of open.get(id) ?? []) res.write(bytes);
    },
    /** Adds a container to the list with the given stream. */
    addContainer(c: (typeof LIST)[number], stream: Buffer) {
      list.push(c);
      logs.set(c.Id, [stream]);
    },
    async close() {
      for (const all of open.values()) for (const res of all) res.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const frame = (type: number, text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

test('docker: running containers from now on at the first start; names, fields, levels, times', async () => {
  const e = await engine();
  const c = collectingSink();
  const src = createDockerSource({
    stateDir: path.join(e.dir, 'state'),
    socketPath: e.socketPath,
    pollMs: 50,
  });
  try {
    src.start(c.sink);
    await waitFor(
      () => e.requests.filter((r) => r.includes('/logs?')).length === 2,
      'two log streams',
    );
    assert.ok(
      e.requests.every((r) => !r.includes('/logs?') || r.endsWith('&tail=0')),
      e.requests.join('\n'),
    );
    assert.ok(
      !e.requests.some((r) => r.includes(LIST[2]!.Id)),
      'the exited container is not followed',
    );
    e.add(WEB, frame(2, '2026-12-04T02:10:00.000000000Z ERROR database unreachable\n'));
    e.add(SHELL, Buffer.from('2026-12-04T02:10:01.000000000Z root@4f1c:/# exit\r\n'));
    await waitFor(() => c.lines.length === 2, 'two new lines');
    await src.stop();
    // A restart: the history from before the first start stays unread, for every container.
    const again = collectingSink();
    const s2 = createDockerSource({
      stateDir: path.join(e.dir, 'state'),
      socketPath: e.socketPath,
      pollMs: 50,
    });
    const before = e.requests.length;
    s2.start(again.sink);
    await waitFor(
      () => e.requests.slice(before).filter((r) => r.includes('/logs?')).length === 2,
      'two log streams again',
    );
    await sleep(200);
    await s2.stop();
    assert.ok(
      e.requests.slice(before).every((r) => !r.includes('/logs?') || r.includes('&since=')),
    );
    assert.deepEqual(again.lines, []);
  } finally {
    await src.stop();
    await e.close();
  }
  const web = c.lines.find((l) => l.source_name === 'web')!;
  assert.deepEqual(web, {
    timestamp: Date.UTC(2026, 11, 4, 2, 10),
    source: 'docker',
    source_name: 'web',
    level: 'error',
    message: 'ERROR database unreachable',
    fields: { stream: 'stderr', container_id: WEB, image: 'nginx:1.27' },
  });
  const shell = c.lines.find((l) => l.source_name === 'shell')!;
  assert.equal(shell.message, 'root@4f1c:/# exit');
  assert.equal(shell.fields.stream, 'stdout');
  assert.equal(shell.level, 'info');
});

test('docker: a restart resumes after the last line taken, without repeats; new containers from their start', async () => {
  const e = await engine();
  const stateDir = path.join(e.dir, 'state');
  // A saved position inside web's recorded log: the lines after it are read, nothing before.
  const saved = { containers: { [WEB]: '2026-12-04T02:00:01.120000000Z' } };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(path.join(stateDir, 'docker.json'), JSON.stringify(saved));
  const c1 = collectingSink();
  const s1 = createDockerSource({ stateDir, socketPath: e.socketPath, pollMs: 50 });
  const seen: string[] = [];
  try {
    s1.start(c1.sink);
    const webLines = () => c1.lines.filter((l) => l.source_name === 'web');
    await waitFor(() => webLines().length === 3, 'the three lines after the saved one');
    assert.ok(
      e.requests.some(
        (r) =>
          r.includes(`/containers/${WEB}/logs?`) &&
          r.includes(`since=${dockerSince(saved.containers[WEB])}`),
      ),
    );
    e.add(WEB, frame(1, '2026-12-04T02:10:00.000000000Z after 1\n'));
    await waitFor(() => webLines().length === 4, 'a new line');
    await waitFor(() => c1.lines.length === 6, "shell's lines");
    // A restart (a position file exists): a container without a position is read from its start.
    assert.deepEqual(
      c1.lines.filter((l) => l.source_name === 'shell').map((l) => l.message),
      ['root@4f1c:/# ls', 'bin  etc  usr'],
    );
    await s1.stop();
    seen.push(...c1.lines.filter((l) => l.source_name === 'web').map((l) => l.message));
    // While stopped: more lines in web, and a container that starts.
    e.add(WEB, frame(1, '2026-12-04T02:10:05.000000000Z after 2\n'));
    e.addContainer(
      { ...LIST[0]!, Id: 'c0ffee'.padEnd(64, '0'), Names: ['/worker'], State: 'running' },
      frame(1, '2026-12-04T02:09:00.000000000Z worker started\n'),
    );
    const c2 = collectingSink();
    const s2 = createDockerSource({ stateDir, socketPath: e.socketPath, pollMs: 50 });
    s2.start(c2.sink);
    await waitFor(
      () => c2.lines.length >= 2,
      'the line written while stopped and the new container',
    );
    await sleep(150);
    await s2.stop();
    seen.push(...c2.lines.filter((l) => l.source_name === 'web').map((l) => l.message));
    assert.deepEqual(
      c2.lines.filter((l) => l.source_name === 'worker').map((l) => l.message),
      ['worker started'],
    );
  } finally {
    await e.close();
  }
  assert.deepEqual(seen, [
    'level=warn msg="slow upstream" ms=812',
    '{"level":"info","msg":"split line"}',
    'plain stderr line',
    'after 1',
    'after 2',
  ]);
});

test('docker: a rejected sink call saves no position', async () => {
  const e = await engine();
  const stateDir = path.join(e.dir, 'state');
  const c = collectingSink();
  c.reject = true;
  const src = createDockerSource({ stateDir, socketPath: e.socketPath, pollMs: 50 });
  try {
    src.start(c.sink);
    await waitFor(
      () => e.requests.filter((r) => r.includes('/logs?')).length === 2,
      'two log streams',
    );
    e.add(WEB, frame(1, '2026-12-04T02:10:00.000000000Z refused at first\n'));
    await waitFor(() => c.calls >= 1, 'a refused call');
    await sleep(50);
    const file = path.join(stateDir, 'docker.json');
    const savedWeb = () =>
      (JSON.parse(readFileSync(file, 'utf8')) as { containers: Record<string, string> }).containers[
        WEB
      ];
    const refused = '2026-12-04T02:10:00.000000000Z';
    assert.ok(savedWeb(), 'the first start position is saved');
    assert.notEqual(savedWeb(), refused);
    c.reject = false;
    await waitFor(() => c.lines.length === 1, 'the retried line', 8_000);
    await waitFor(() => savedWeb() === refused, 'the position of the taken line');
  } finally {
    await src.stop();
    await e.close();
  }
  assert.equal(c.lines[0]!.message, 'refused at first');
});

test('dockerAvailable: an engine answering /_ping, and no socket', async () => {
  const e = await engine();
  try {
    assert.equal(await dockerAvailable(e.socketPath), true);
  } finally {
    await e.close();
  }
  assert.equal(await dockerAvailable(path.join(e.dir, 'none.sock')), false);
});
