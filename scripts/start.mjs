// `npm start`: runs `vigil serve` and, beside it, a local agent for this machine
// (`vigil-agent run`, its API on 127.0.0.1:3333) that pushes to the server over mutual TLS.
//
// First start: the agent's configuration is created as `<data dir>/agent/config.ini`, the server
// issues an enrollment token to it (`vigil agent-token`), and once the server listens the agent
// enrolls with that token, pinning the server CA by the fingerprint the server prints. Later
// starts reuse the enrollment. The server is what matters: if the agent cannot enroll or start, a
// warning is printed and the server keeps running. SIGINT and SIGTERM stop both; the exit status
// is the server's. Set VIGIL_AGENT_LOCAL=0 to start only the server, VIGIL_AGENT_LOCAL_PORT to
// give the agent's API another port than 3333 on first start.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(process.env.VIGIL_STORAGE_DATA_DIR || path.join(root, 'data'));
// The server's launcher (bin/vigil.js), as the `vigil` command runs it: it sets the server's V8
// heap settings before loading the bundle.
const vigil = path.join(root, 'packages', 'server', 'bin', 'vigil.js');
const agentBundle = path.join(root, 'dist', 'vigil-agent.js');
const args = process.argv.slice(2);
const local = process.env.VIGIL_AGENT_LOCAL !== '0';
const warn = (line) => process.stderr.write(`WARNING: ${line}\n`);

const agentDir = path.join(dataDir, 'agent');
const config = path.join(agentDir, 'config.ini');
const tokenFile = path.join(agentDir, 'enrollment-token');
const enrolled = () => existsSync(path.join(agentDir, 'vigil-server.json'));

if (local) {
  if (!existsSync(config)) {
    mkdirSync(agentDir, { recursive: true, mode: 0o700 });
    writeFileSync(
      config,
      [
        '# The local agent that `npm start` runs beside the server (see docs/agent.md).',
        '[default]',
        'address = 127.0.0.1',
        `port = ${process.env.VIGIL_AGENT_LOCAL_PORT || 3333}`,
        'interval = 30',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  if (!enrolled() && !existsSync(tokenFile)) {
    // The agent is named after the machine, as far as an agent id allows.
    const host = os
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '');
    const id = host ? host.slice(0, 120) : 'local';
    const r = spawnSync(
      process.execPath,
      [vigil, 'agent-token', '--id', id, '--name', `${id} (local)`, '--output', tokenFile, ...args],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (r.status !== 0) warn('could not issue an enrollment token for the local agent');
  }
}

// The server's notes (its URL, the CA fingerprint) are copied through and read for enrollment.
const server = spawn(process.execPath, [vigil, 'serve', ...args], {
  stdio: ['inherit', 'inherit', 'pipe'],
});
let notes = '';
let agent;
let stopping = false;

server.stderr.on('data', (chunk) => {
  process.stderr.write(chunk);
  if (agent !== undefined || !local || stopping) return;
  notes += chunk;
  const url = /^Vigil (https?:\/\/\S+) \(listening on/m.exec(notes)?.[1];
  if (!url) return;
  const fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]+)/.exec(notes)?.[1];
  agent = null;
  startAgent(url, fingerprint);
});

function startAgent(url, fingerprint) {
  if (!enrolled() && existsSync(tokenFile)) {
    if (!url.startsWith('https:') || !fingerprint) {
      warn('the server runs without TLS: the local agent cannot enroll; it only serves its API');
    } else {
      const token = readFileSync(tokenFile, 'utf8').trim();
      const r = spawnSync(
        process.execPath,
        [
          agentBundle,
          'enroll',
          '--server',
          url,
          '--token',
          token,
          '--ca-fingerprint',
          fingerprint,
          '--config',
          config,
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      if (r.status === 0) rmSync(tokenFile, { force: true });
      else warn('the local agent could not enroll; it only serves its API');
    }
  }
  agent = spawn(process.execPath, [agentBundle, 'run', '--config', config], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  agent.on('exit', (code, signal) => {
    agent = undefined;
    if (!stopping)
      warn(`the local agent stopped (${signal ?? `exit ${code}`}); the server keeps running`);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    server.kill(signal);
    agent?.kill(signal);
  });
}
server.on('exit', (code, signal) => {
  stopping = true;
  agent?.kill('SIGTERM');
  process.exitCode = code ?? (signal ? 1 : 0);
});
