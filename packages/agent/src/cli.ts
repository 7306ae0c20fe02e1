import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { collectOnce, loadCustomChecks, loadPrometheusExporters, startAgent } from './agent.js';
import { CustomChecksError } from './checks/config.js';
import { AgentConfigError, DEFAULT_DIR, loadAgentConfig } from './config.js';
import { PrometheusExportersError } from './prometheus/config.js';
import { EnrollError, enroll, readNativeState } from './push/native.js';
import { AGENT_VERSION } from './version.js';

const USAGE = `Usage: vigil-agent <command> [options]

Commands:
  run [--config FILE]              Collect every interval, run the custom checks and serve the
                                   openITCOCKPIT-compatible API on the configured port.
  check-config [--config FILE]     Validate config.ini, customchecks.ini and (with [prometheus]
                                   enabled) prometheus_exporters.ini; exit 1 naming the first
                                   problem.
  collect --once [--config FILE]   Print one check-data document as JSON and exit.
  enroll --server URL --ca-fingerprint SHA256 [--token T | --ticket T | --template-key KEY]
         [--id ID] [--wait SECONDS] [--config FILE]
                                   Enroll with a Vigil server: pin its CA by fingerprint, get a
                                   client certificate (at once with a token from
                                   POST /api/v1/agents, with this host's Icinga 2 ticket, or with
                                   a host template's self-service key: register this host, get
                                   its ticket and enroll with it; else after an operator
                                   approves), and keep it beside config.ini; \`run\` then
                                   pushes over mutual TLS.

Options:
  --config FILE   config.ini to use (default ${DEFAULT_DIR}/config.ini when it exists, else
                  the built-in defaults)
  --help          Show this help (also after a command)
  --version       Print the agent's version
`;

/** The config file to use: the option, else the default path when it exists. */
function configPath(option: string | undefined): string | undefined {
  if (option !== undefined) return path.resolve(option);
  const def = path.join(DEFAULT_DIR, 'config.ini');
  return existsSync(def) ? def : undefined;
}

/** Runs the command line; returns the exit code (a running agent resolves when it stops). */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        once: { type: 'boolean' },
        server: { type: 'string' },
        token: { type: 'string' },
        'template-key': { type: 'string' },
        ticket: { type: 'string' },
        'ca-fingerprint': { type: 'string' },
        id: { type: 'string' },
        wait: { type: 'string' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    process.stderr.write(`vigil-agent: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(`vigil-agent: unexpected argument "${positionals[1]}"\n`);
    return 2;
  }
  const file = configPath(values.config);
  try {
    switch (command) {
      case 'check-config': {
        const config = loadAgentConfig(file);
        const checks = loadCustomChecks(config);
        const exporters = loadPrometheusExporters(config);
        const on = Object.entries(config.toggles)
          .filter(([, v]) => v)
          .map(([k]) => k);
        process.stdout.write(
          [
            `config: ${file ?? '(built-in defaults)'}: OK`,
            `customchecks: ${config.customchecks}: ${existsSync(config.customchecks) ? `OK, ${checks.checks.length} checks (${checks.checks.filter((c) => c.enabled).length} enabled)` : 'not present, no custom checks'}`,
            ...(config.prometheus.enabled
              ? [
                  `prometheus exporters: ${config.prometheus.exporters}: ${existsSync(config.prometheus.exporters) ? `OK, ${exporters.length} enabled` : 'not present, no exporters'}`,
                ]
              : []),
            `web server: ${config.address}:${config.port}${config.certfile ? ' (HTTPS)' : ''}${config.auth ? ', Basic auth' : ''}`,
            ...(config.push.enabled
              ? [
                  `push ([oitc]): ${config.push.url || '(no url!)'}; web server ${config.push.enableWebserver ? 'on' : 'off'}`,
                ]
              : []),
            ...(readNativeState(config.stateDir)
              ? [`push (Vigil): enrolled, state in ${config.stateDir}`]
              : []),
            `remote checks: ${config.vigil.remoteChecks ? `on, executables under ${config.vigil.pluginDirs.join(', ') || '(no plugin-dirs!)'}` : 'off'}`,
            `interval: ${config.interval} s`,
            `collectors on: ${on.join(', ')}`,
            '',
          ].join('\n'),
        );
        return 0;
      }
      case 'collect': {
        if (!values.once) {
          process.stderr.write('vigil-agent: collect needs --once\n');
          return 2;
        }
        const config = loadAgentConfig(file);
        const checks = loadCustomChecks(config);
        const { document } = await collectOnce(config);
        const { runCheck } = await import('./checks/runner.js');
        const results: Record<string, unknown> = {};
        for (const c of checks.checks.filter((x) => x.enabled))
          results[c.name] = await runCheck(c, { maxOutputBytes: config.vigil.checkOutputBytes });
        document.customchecks = results;
        process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
        return 0;
      }
      case 'enroll': {
        if (!values.server || !values['ca-fingerprint']) {
          process.stderr.write(
            'vigil-agent: enroll needs --server URL and --ca-fingerprint SHA256\n',
          );
          return 2;
        }
        const proofs = [values.token, values.ticket, values['template-key']];
        if (proofs.filter((v) => v !== undefined).length > 1) {
          process.stderr.write(
            'vigil-agent: enroll takes one of --token, --ticket and --template-key\n',
          );
          return 2;
        }
        const wait = values.wait === undefined ? 0 : Number(values.wait);
        if (!Number.isInteger(wait) || wait < 0 || wait > 86_400) {
          process.stderr.write('vigil-agent: --wait must be whole seconds, 0 to 86400\n');
          return 2;
        }
        const dir = file ? path.dirname(file) : DEFAULT_DIR;
        const state = await enroll({
          server: values.server,
          token: values.token,
          templateKey: values['template-key'],
          ticket: values.ticket,
          caFingerprint: values['ca-fingerprint'],
          id: values.id,
          waitSeconds: wait,
          dir,
          log: (l) => process.stderr.write(`vigil-agent: ${l}\n`),
        });
        process.stdout.write(
          state.status === 'approved'
            ? `enrolled as agent ${state.agent_id} with ${state.server}; certificate and key in ${dir}\n`
            : `enrollment of agent ${state.agent_id} is pending an operator's approval on ${state.server}; \`vigil-agent run\` finishes it once approved\n`,
        );
        return 0;
      }
      case 'run': {
        const agent = await startAgent(file);
        const cfg = agent.config();
        const serving = agent.server
          ? `serving ${agent.server.tls ? 'https' : 'http'}://${cfg.address}:${agent.server.port}/`
          : 'web server off ([oitc] enable-webserver = False)';
        const pushing = agent.pushTargets.map((t) => `; pushing to ${t}`).join('');
        process.stderr.write(
          `vigil-agent ${AGENT_VERSION}: collecting every ${cfg.interval} s${pushing}; ${serving}\n`,
        );
        process.on('SIGHUP', () => {
          agent.reload().catch((err: unknown) => {
            process.stderr.write(
              `vigil-agent: reload failed, keeping the old configuration: ${(err as Error).message}\n`,
            );
          });
        });
        const signal = await new Promise<string>((resolve) => {
          process.once('SIGTERM', () => resolve('SIGTERM'));
          process.once('SIGINT', () => resolve('SIGINT'));
        });
        process.stderr.write(`vigil-agent: ${signal}, stopping\n`);
        await agent.stop();
        return 0;
      }
      default:
        process.stderr.write(`vigil-agent: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (
      err instanceof AgentConfigError ||
      err instanceof CustomChecksError ||
      err instanceof PrometheusExportersError ||
      err instanceof EnrollError
    ) {
      process.stderr.write(`vigil-agent: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
      process.stderr.write(`vigil-agent: cannot listen: ${e.message}\n`);
      return 1;
    }
    throw err;
  }
}
