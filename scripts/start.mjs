// `npm start`: runs `vigil serve` and, beside it, a local agent for this machine
// (`vigil-agent run`, its API on 127.0.0.1:3333). The agent's configuration is created on first
// start as `<data dir>/agent/config.ini`. The server is what matters: if the agent cannot start
// (port 3333 taken, say) a warning is printed and the server keeps running. SIGINT and SIGTERM
// stop both; the exit status is the server's. Set VIGIL_AGENT_LOCAL=0 to start only the server.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const dataDir = path.resolve(process.env.VIGIL_STORAGE_DATA_DIR || path.join(root, 'data'));

const server = spawn(
  process.execPath,
  [path.join(root, 'packages', 'server', 'dist', 'vigil.js'), 'serve', ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

let agent;
if (process.env.VIGIL_AGENT_LOCAL !== '0') {
  const dir = path.join(dataDir, 'agent');
  const config = path.join(dir, 'config.ini');
  if (!existsSync(config)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(
      config,
      [
        '# The local agent that `npm start` runs beside the server (see the README, "Agent").',
        '[default]',
        'address = 127.0.0.1',
        'port = 3333',
        'interval = 30',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
  }
  agent = spawn(
    process.execPath,
    [path.join(root, 'dist', 'vigil-agent.js'), 'run', '--config', config],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  agent.on('exit', (code, signal) => {
    agent = undefined;
    if (!stopping)
      process.stderr.write(
        `WARNING: the local agent stopped (${signal ?? `exit ${code}`}); the server keeps running\n`,
      );
  });
}

let stopping = false;
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
