import { randomUUID } from 'node:crypto';
import { ALLOWED_SIGNALS } from '@vigil/protocol';
import type { AgentCommand, CommandResult, ProcessDetail, SignalResult } from '@vigil/protocol';
import { createAudited, type Transact } from '../audit/audited.js';
import type { AuditStore, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import { mustGet, type AgentPolicy, type AgentRow } from './model.js';

/**
 * Hands commands to push agents and their results back to the waiting request. Agents pick
 * commands up with a long poll or with the answer to a push; a command nobody picked up or
 * answered within its timeout fails with 504 and is withdrawn.
 */
export interface CommandBroker {
  /**
   * Queues a command for an agent and resolves with the agent's result.
   * @throws VigilError timeout when no result arrives within `timeoutMs`.
   */
  send(agentId: string, command: AgentCommand, timeoutMs: number): Promise<CommandResult>;
  /** Removes and returns the commands queued for an agent. */
  take(agentId: string): AgentCommand[];
  /** Resolves with queued commands as soon as there are some, or with none after `waitMs`. */
  wait(agentId: string, waitMs: number, abort: AbortSignal): Promise<AgentCommand[]>;
  /** Delivers a result; false when no command with that id of that agent waits for one. */
  complete(agentId: string, commandId: string, result: CommandResult): boolean;
  /** Fails every command of an agent (it was revoked or removed). */
  cancelAll(agentId: string, reason: string): void;
  /** Fails everything (the server stops). */
  close(): void;
}

interface InFlight {
  agentId: string;
  resolve(r: CommandResult): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * An in-process broker: the agent's long poll and the operator's request meet in this process.
 * (Several server processes need a shared broker; this one keeps to the interface above.)
 */
export function createCommandBroker(): CommandBroker {
  const queues = new Map<string, AgentCommand[]>();
  const waiters = new Map<string, Set<() => void>>();
  const inFlight = new Map<string, InFlight>();

  const wake = (agentId: string) => {
    for (const w of waiters.get(agentId) ?? []) w();
  };
  const withdraw = (agentId: string, id: string) => {
    const q = queues.get(agentId);
    if (!q) return;
    const i = q.findIndex((c) => c.id === id);
    if (i >= 0) q.splice(i, 1);
    if (q.length === 0) queues.delete(agentId);
  };

  const broker: CommandBroker = {
    send(agentId, command, timeoutMs) {
      return new Promise<CommandResult>((resolve, reject) => {
        const timer = setTimeout(() => {
          inFlight.delete(command.id);
          withdraw(agentId, command.id);
          reject(
            new VigilError(
              'timeout',
              `agent ${agentId} did not answer within ${Math.round(timeoutMs / 1000)} s`,
              { code: 'agent.timeout' },
            ),
          );
        }, timeoutMs);
        inFlight.set(command.id, { agentId, resolve, reject, timer });
        const q = queues.get(agentId) ?? [];
        q.push(command);
        queues.set(agentId, q);
        wake(agentId);
      });
    },
    take(agentId) {
      const q = queues.get(agentId);
      if (!q) return [];
      queues.delete(agentId);
      return q;
    },
    wait(agentId, waitMs, abort) {
      const ready = broker.take(agentId);
      if (ready.length > 0 || waitMs <= 0 || abort.aborted) return Promise.resolve(ready);
      return new Promise((resolve) => {
        const set = waiters.get(agentId) ?? new Set();
        waiters.set(agentId, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          if (set.size === 0) waiters.delete(agentId);
          abort.removeEventListener('abort', done);
          resolve(broker.take(agentId));
        };
        const timer = setTimeout(done, waitMs);
        abort.addEventListener('abort', done);
        set.add(done);
      });
    },
    complete(agentId, commandId, result) {
      const f = inFlight.get(commandId);
      if (!f || f.agentId !== agentId) return false;
      inFlight.delete(commandId);
      clearTimeout(f.timer);
      f.resolve(result);
      return true;
    },
    cancelAll(agentId, reason) {
      queues.delete(agentId);
      for (const [id, f] of inFlight) {
        if (f.agentId !== agentId) continue;
        inFlight.delete(id);
        clearTimeout(f.timer);
        f.reject(new VigilError('conflict', reason, { code: 'agent.not_approved' }));
      }
    },
    close() {
      for (const set of waiters.values()) for (const w of [...set]) w();
      for (const [id, f] of inFlight) {
        inFlight.delete(id);
        clearTimeout(f.timer);
        f.reject(new VigilError('unavailable', 'the server is stopping'));
      }
      queues.clear();
    },
  };
  return broker;
}

/** Carries a command to a pull agent directly (the server connects to the agent). */
export interface PullCommander {
  command(agent: AgentRow, command: AgentCommand, timeoutMs: number): Promise<CommandResult>;
}

/** What the command service needs of the agents table. */
export interface CommandStore {
  /** Returns undefined when absent. */
  get(id: string): Promise<AgentRow | undefined>;
}

/** The error for a command an agent could not carry out. */
function commandFailure(result: Extract<CommandResult, { ok: false }>, pid: number): VigilError {
  switch (result.failure) {
    case 'no_such_process':
      return new VigilError('not_found', `no process ${pid} on the agent`, {
        code: 'process.not_found',
      });
    case 'permission_denied':
      return new VigilError(
        'forbidden',
        `the agent may not do this to process ${pid}: ${result.message}`,
        {
          code: 'process.permission_denied',
        },
      );
    case 'protected_process':
      return new VigilError('forbidden', result.message, { code: 'process.protected' });
    default:
      return new VigilError('bad_data', result.message, { code: 'process.bad_command' });
  }
}

/**
 * Commands to agents (process detail, signals): sent through the broker to push agents, or
 * directly to pull agents over mutual TLS.
 */
export const createCommandService = (deps: {
  store: CommandStore;
  broker: CommandBroker;
  /** Writes the audit event of a signal, whatever its outcome. */
  transact: Transact<{ audit: AuditStore }>;
  policy: Pick<AgentPolicy, 'commandTimeoutSeconds'>;
  now: () => number;
  pullCommander?: () => PullCommander | undefined;
}) => {
  const { store, policy, now } = deps;
  const audited = createAudited(deps.transact, now);
  const service = {
    /**
     * Sends a command to an agent and waits for its result: through the agent's long poll or its
     * next push (push agents), or directly (pull agents).
     * @throws VigilError not_found, conflict (no command channel or not approved), timeout.
     */
    async command(
      agentId: string,
      command:
        | { kind: 'process.get'; pid: number }
        | { kind: 'process.signal'; pid: number; signal: number },
    ): Promise<CommandResult> {
      const row = await mustGet(store, agentId);
      if (row.approval !== 'approved')
        throw new VigilError('conflict', `agent ${agentId} is ${row.approval}`, {
          code: 'agent.not_approved',
        });
      const timeoutMs = policy.commandTimeoutSeconds * 1000;
      const full = { ...command, id: randomUUID() } as AgentCommand;
      if (row.kind === 'pull') {
        const commander = deps.pullCommander?.();
        if (!commander || row.pull_tls !== 'mtls')
          throw new VigilError(
            'conflict',
            `agent ${agentId} takes commands only over mutual TLS, which is not established`,
            { code: 'agent.no_command_channel' },
          );
        return commander.command(row, full, timeoutMs);
      }
      if (row.kind !== 'native')
        throw new VigilError(
          'conflict',
          `agent ${agentId} is an openITCOCKPIT push agent, which has no command channel`,
          { code: 'agent.no_command_channel' },
        );
      return deps.broker.send(agentId, full, timeoutMs);
    },

    /** Waits up to `waitMs` for commands for a native agent (its long poll). */
    waitCommands: (agent: AgentRow, waitMs: number, abort: AbortSignal) =>
      deps.broker.wait(agent.id, waitMs, abort),

    /** Takes an agent's result for a command. @throws VigilError not_found for unknown ids. */
    completeCommand(agent: AgentRow, commandId: string, result: CommandResult): void {
      if (!deps.broker.complete(agent.id, commandId, result))
        throw new VigilError('not_found', `no command ${commandId} is waiting for a result`, {
          code: 'command.not_found',
        });
    },

    /**
     * A process's detail, read by its agent (Tyto's shape).
     * @throws VigilError not_found (agent or process), conflict, timeout.
     */
    async processDetail(agentId: string, pid: number): Promise<ProcessDetail> {
      const result = await service.command(agentId, { kind: 'process.get', pid });
      if (!result.ok) throw commandFailure(result, pid);
      if (!result.process)
        throw new VigilError('external', `agent ${agentId} answered without the process`, {
          code: 'agent.bad_answer',
        });
      return result.process;
    },

    /**
     * Sends a signal (one of `ALLOWED_SIGNALS`) to a process through its agent, and audits the
     * attempt with its outcome.
     * @throws VigilError bad_data (signal not allowed), not_found, forbidden, conflict, timeout.
     */
    async signalProcess(
      agentId: string,
      pid: number,
      signal: number,
      ctx: RequestContext,
    ): Promise<SignalResult> {
      if (!ALLOWED_SIGNALS.includes(signal))
        throw new VigilError(
          'bad_data',
          `signal ${signal} is not allowed; use one of ${ALLOWED_SIGNALS.join(', ')}`,
          { code: 'process.signal_not_allowed' },
        );
      let outcome = 'delivered';
      try {
        const result = await service.command(agentId, { kind: 'process.signal', pid, signal });
        if (!result.ok) {
          outcome = result.failure;
          throw commandFailure(result, pid);
        }
        return { pid, signal, agent_id: agentId, delivered: true };
      } catch (err) {
        if (outcome === 'delivered') outcome = err instanceof VigilError ? err.code : 'error';
        throw err;
      } finally {
        await audited(
          ctx,
          {
            action: 'process.signal',
            resourceType: 'process',
            resourceId: `${agentId}/${pid}`,
            detail: { agent_id: agentId, pid, signal, outcome },
          },
          async () => undefined,
        );
      }
    },
  };
  return service;
};

/** The command service. */
export type CommandService = ReturnType<typeof createCommandService>;
