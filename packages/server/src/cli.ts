import { Command, Option } from 'commander';
import { chmodSync, writeFileSync } from 'node:fs';
import pino from 'pino';
import { createVigil, openConfiguredDb, prepareStore } from './app.js';
import { systemContext } from './audit/service.js';
import { ConfigError, loadConfig, maskedConfig, toToml, type Config } from './config/config.js';
import { VigilError } from './errors.js';
import { passwordProblem } from './identity/passwords.js';
import { serve, worker } from './serve.js';
import { VERSION } from './version.js';

const configOption = () =>
  new Option('-c, --config <file>', 'TOML configuration file (default: ./vigil.toml if present)');

function load(file: string | undefined): Config {
  return loadConfig({ file });
}

/** Reads a password: hidden prompt (asked twice) on a terminal, else the first line of stdin. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  const ask = (prompt: string) =>
    new Promise<string>((resolve) => {
      process.stderr.write(prompt);
      const stdin = process.stdin;
      stdin.setRawMode(true);
      stdin.resume();
      let value = '';
      const onData = (buf: Buffer) => {
        for (const ch of buf.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            stdin.setRawMode(false);
            stdin.pause();
            stdin.off('data', onData);
            process.stderr.write('\n');
            resolve(value);
            return;
          }
          if (ch === '\u0003') process.exit(130);
          if (ch === '\u007f') value = value.slice(0, -1);
          else value += ch;
        }
      };
      stdin.on('data', onData);
    });
  const first = await ask('Password: ');
  const second = await ask('Repeat password: ');
  if (first !== second) throw new VigilError('bad_data', 'the passwords do not match');
  return first;
}

/** Builds the `vigil` command. */
export function program(): Command {
  const cmd = new Command('vigil')
    .description('Vigil: self-hosted infrastructure monitoring server.')
    .version(VERSION)
    .showHelpAfterError();

  cmd
    .command('serve')
    .description('Run the HTTPS API and web server (applies pending migrations first).')
    .addOption(configOption())
    .action(async (o: { config?: string }) => {
      await serve(load(o.config));
    });

  cmd
    .command('worker')
    .description(
      'Run job workers and periodic cluster work on the configured database, without serving HTTP.',
    )
    .addOption(configOption())
    .action(async (o: { config?: string }) => {
      await worker(load(o.config));
    });

  cmd
    .command('migrate')
    .description('Apply pending database migrations and exit.')
    .addOption(configOption())
    .action(async (o: { config?: string }) => {
      const config = load(o.config);
      const db = openConfiguredDb(config);
      try {
        const { migration } = await prepareStore(db, config);
        for (const m of migration.applied) process.stdout.write(`applied ${m.version} ${m.name}\n`);
        process.stdout.write(
          `${db.description}: schema version ${migration.version}${migration.applied.length ? '' : ' (up to date)'}\n`,
        );
      } finally {
        await db.close();
      }
    });

  cmd
    .command('create-admin')
    .description(
      'Create a user with the admin role. The password is read from stdin, or prompted for on a terminal; at least 12 characters.',
    )
    .requiredOption('-u, --username <name>', 'user name')
    .option('-e, --email <address>', 'e-mail address')
    .addOption(configOption())
    .action(async (o: { username: string; email?: string; config?: string }) => {
      const config = load(o.config);
      const password = await readPassword();
      const problem = passwordProblem(password);
      if (problem) throw new VigilError('bad_data', problem);
      const db = openConfiguredDb(config);
      try {
        const { identity } = await prepareStore(db, config);
        const user = await identity.createUser(
          { username: o.username, email: o.email ?? null, password, roles: ['admin'] },
          systemContext('cli'),
        );
        process.stdout.write(`created admin user ${user.username} (${user.id})\n`);
      } finally {
        await db.close();
      }
    });

  cmd
    .command('agent-token')
    .description(
      'Issue a one-time enrollment token for a native agent (adding the agent when it does not exist) for `vigil-agent enroll --token`.',
    )
    .requiredOption('--id <id>', 'agent id (letters, digits, . _ -)')
    .option('--name <name>', 'display name (default: the id)')
    .option('--output <file>', 'write the token to this file (mode 0600) instead of stdout')
    .addOption(configOption())
    .action(async (o: { id: string; name?: string; output?: string; config?: string }) => {
      const config = load(o.config);
      const vigil = await createVigil({ config, logger: pino({ level: 'silent' }) });
      try {
        const t = await vigil.enrollment.enrollmentToken(
          { id: o.id, name: o.name ?? o.id },
          systemContext('cli'),
        );
        if (o.output) {
          writeFileSync(o.output, `${t.token}\n`, { mode: 0o600 });
          chmodSync(o.output, 0o600);
          process.stdout.write(
            `enrollment token for agent ${o.id} written to ${o.output} (valid until ${new Date(t.expiresAt).toISOString()})\n`,
          );
        } else process.stdout.write(`${t.token}\n`);
      } finally {
        await vigil.close();
      }
    });

  cmd
    .command('check-config')
    .description(
      'Validate the configuration; print it with secrets masked (exit 0) or the problem (exit 1).',
    )
    .addOption(configOption())
    .action((o: { config?: string }) => {
      process.stdout.write(toToml(maskedConfig(load(o.config))) + '\n');
    });

  return cmd;
}

/** Runs the CLI; known errors print one line and exit 1, never a stack trace. */
export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`vigil: configuration error: ${err.message}\n`);
    } else if (err instanceof VigilError) {
      process.stderr.write(`vigil: ${err.message}\n`);
    } else {
      process.stderr.write(`vigil: ${(err as Error).stack ?? String(err)}\n`);
    }
    process.exitCode = 1;
  }
}

void main();
