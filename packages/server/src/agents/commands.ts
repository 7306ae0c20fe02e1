import type { AgentCommand, CommandResult } from '@vigil/protocol';
import { VigilError } from '../errors.js';

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
