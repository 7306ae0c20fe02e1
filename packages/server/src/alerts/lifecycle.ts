import { randomUUID } from 'node:crypto';
import { createAudited, type Transact } from '../audit/audited.js';
import type { Actor, CursorCodec, RequestContext } from '../audit/service.js';
import { VigilError } from '../errors.js';
import type { AlertEvent } from '../events/types.js';
import {
  OPEN_STATES,
  SEVERITIES,
  dedupKey,
  type AlertItem,
  type AlertKey,
  type AlertNotifyEvent,
  type AlertSignal,
  type AlertSink,
  type AlertState,
  type Severity,
} from './model.js';
import type {
  AlertChange,
  AlertRecord,
  AlertStore,
  AlertStores,
  SilenceRecord,
} from './records.js';
import { createAlertReads } from './reads.js';
import { MAX_SILENCE_MS, parseTime } from './time.js';
import { matches } from './silences.js';
import { SYSTEM, createSteps, severityEvent, type Published } from './steps.js';

/** A sink call: a condition fired or cleared. */
type SinkOp = { kind: 'fire'; signal: AlertSignal } | { kind: 'clear'; key: AlertKey };

/** What one unit of work reads once for all its sink calls. */
interface Seen {
  silences(s: AlertStores): Promise<SilenceRecord[]>;
  maintenance(s: AlertStores, hostId: string): Promise<boolean>;
}

/** The most sink calls carried out in one unit of work. */
const BATCH = 50;

/** A person's action on an alert. */
export type AlertAction = 'acknowledge' | 'silence' | 'resolve' | 'dismiss';

const bad = (message: string) => new VigilError('bad_data', message, { code: 'validation_failed' });
const notFound = (id: string) =>
  new VigilError('not_found', `alert ${id} not found`, { code: 'alert.not_found' });
const invalid = (state: string, action: string) =>
  new VigilError('conflict', `the alert is ${state}: it cannot be ${action}`, {
    code: 'transition.invalid',
  });

/** Which states each action starts from, where it goes, and its event. */
const ACTIONS: Record<
  AlertAction,
  { from: readonly string[]; to: AlertState; event: AlertNotifyEvent; done: string }
> = {
  acknowledge: {
    from: ['active', 'silenced'],
    to: 'acknowledged',
    event: 'acknowledged',
    done: 'acknowledged',
  },
  silence: {
    from: ['active', 'acknowledged'],
    to: 'silenced',
    event: 'silenced',
    done: 'silenced',
  },
  resolve: { from: OPEN_STATES, to: 'resolved', event: 'resolved', done: 'resolved' },
  dismiss: { from: OPEN_STATES, to: 'dismissed', event: 'dismissed', done: 'dismissed' },
};

/**
 * The alert lifecycle: one open alert per condition (`dedup_key`), opened and updated by the
 * evaluator through `AlertSink`, moved by people (acknowledge, silence, resolve, dismiss; each
 * audited) and by time (silences ending). Every transition is recorded with its actor and
 * reason; one that is not suppressed queues an `alert.notify` job in the same transaction; each
 * is published on the bus (`ALERT_TOPIC`) once committed.
 */
export function createAlertLifecycle(deps: {
  store: AlertStore;
  transact: Transact<AlertStores>;
  publish: (event: AlertEvent) => void;
  cursors: CursorCodec;
  now: () => number;
}) {
  const { store, transact, now } = deps;
  const audited = createAudited(transact, now);
  const steps = createSteps({ now, publish: deps.publish, store });
  const reads = createAlertReads({ store, cursors: deps.cursors });

  const inMaintenance = async (s: AlertStores, hostId: string, at: number) => {
    const until = await s.alerts.maintenanceUntil(hostId);
    return until !== null && until !== undefined && until > at;
  };

  /** The silences and hosts' maintenance a unit of work reads, each read once within it. */
  const readsOnce = (at: number): Seen => {
    let silences: Promise<SilenceRecord[]> | undefined;
    const maintenance = new Map<string, Promise<boolean>>();
    return {
      silences: (s) => (silences ??= s.alerts.silences(at)),
      maintenance(s, hostId) {
        let m = maintenance.get(hostId);
        if (!m) maintenance.set(hostId, (m = inMaintenance(s, hostId, at)));
        return m;
      },
    };
  };

  /** Runs a unit of work that records steps, and publishes them once it committed. */
  async function work<T>(fn: (s: AlertStores, out: Published) => Promise<T>): Promise<T> {
    const out: Published = [];
    const result = await transact((s) => fn(s, out));
    await steps.publish(out);
    return result;
  }

  /** Opens the alert of a signal, or updates the open one; false when it lost a race. */
  async function fireOnce(
    s: AlertStores,
    out: Published,
    signal: AlertSignal,
    seen: Seen,
  ): Promise<boolean> {
    const key = dedupKey(signal);
    const at = signal.at;
    // Maintenance matters only to a new alert or a severity change: an update of the value, the
    // common case on every push, does not look it up.
    const maintenance = () => seen.maintenance(s, signal.hostId);
    let open = await s.alerts.openByKey(key);
    if (!open) {
      const silence = (await seen.silences(s)).find((x) => matches(x, signal));
      const row = {
        id: randomUUID(),
        dedup_key: key,
        rule_id: signal.ruleId,
        host_id: signal.hostId,
        agent_id: signal.agentId,
        labels: signal.labels,
        type: signal.type,
        severity: signal.severity,
        state: silence ? 'silenced' : 'active',
        message: signal.message,
        value: signal.value,
        threshold: signal.threshold,
        suppressed: silence !== undefined || (await maintenance()),
        silenced_until: silence ? silence.ends_at : null,
        silenced_from: silence ? 'active' : null,
        silence_id: silence ? silence.id : null,
        started_at: at,
        updated_at: at,
        resolved_at: null,
      };
      if (await s.alerts.insertOpen(row)) {
        await steps.record(
          s,
          {
            // Read back: the event and the notification name the host and the rule.
            alert: (await s.alerts.get(row.id)) ?? { ...row, host_name: null, rule_name: null },
            from: null,
            event: 'opened',
            actor: SYSTEM,
            reason: silence ? `silenced: ${silence.reason}` : null,
            notify: !row.suppressed,
          },
          out,
        );
        return true;
      }
      // Another fire opened it first: update that one.
      open = await s.alerts.openByKey(key);
      if (!open) return false;
    }
    const change = {
      value: signal.value,
      message: signal.message,
      threshold: signal.threshold,
      type: signal.type,
      agent_id: signal.agentId,
      updated_at: Math.max(at, open.updated_at),
      severity: signal.severity,
    };
    if (open.severity === signal.severity) {
      // Conditional on the severity read too: a concurrent change of it makes this one retry.
      return (
        (await s.alerts.change(open.id, { state: open.state, severity: open.severity }, change)) ===
        1
      );
    }
    const n = await s.alerts.change(
      open.id,
      { state: open.state, severity: open.severity },
      change,
    );
    if (n !== 1) return false;
    await steps.record(
      s,
      {
        alert: { ...open, ...change },
        from: open.state as AlertState,
        event: severityEvent(open.severity, signal.severity),
        actor: SYSTEM,
        reason: `severity ${open.severity} → ${signal.severity}`,
        notify: !open.suppressed && open.state !== 'silenced' && !(await maintenance()),
      },
      out,
    );
    return true;
  }

  /** Moves an open alert to `to`; false when it was no longer in the state read. */
  async function move(
    s: AlertStores,
    out: Published,
    a: AlertRecord,
    to: AlertState,
    opts: {
      event: AlertNotifyEvent;
      actor: Actor;
      reason: string | null;
      extra?: AlertChange;
    },
  ): Promise<AlertRecord | undefined> {
    const at = Math.max(now(), a.updated_at);
    const closed = to === 'resolved' || to === 'dismissed';
    const change = {
      state: to,
      updated_at: at,
      ...(closed ? { resolved_at: at } : {}),
      ...(to !== 'silenced' ? { silenced_until: null, silenced_from: null, silence_id: null } : {}),
      ...opts.extra,
    };
    if ((await s.alerts.change(a.id, { state: a.state }, change)) !== 1) return undefined;
    const after = { ...a, ...change };
    const maintenance = await inMaintenance(s, a.host_id, at);
    await steps.record(
      s,
      {
        alert: after,
        from: a.state as AlertState,
        event: opts.event,
        actor: opts.actor,
        reason: opts.reason,
        notify: !maintenance && !after.suppressed,
      },
      out,
    );
    return after;
  }

  /** Resolves the open alert of a condition, if any; false when it lost a race. */
  async function clearOnce(s: AlertStores, out: Published, key: AlertKey): Promise<boolean> {
    const open = await s.alerts.openByKey(dedupKey(key));
    if (!open) return true;
    const moved = await move(s, out, open, 'resolved', {
      event: 'resolved',
      actor: SYSTEM,
      reason: 'condition cleared',
    });
    return moved !== undefined;
  }

  const once = (s: AlertStores, out: Published, op: SinkOp, seen: Seen) =>
    op.kind === 'fire' ? fireOnce(s, out, op.signal, seen) : clearOnce(s, out, op.key);

  /** One sink call in units of work of its own, retried while it loses races. */
  async function alone(op: SinkOp): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++)
      if (await work((s, out) => once(s, out, op, readsOnce(now())))) return;
    if (op.kind === 'fire')
      throw new VigilError('conflict', 'the alert kept changing while it was fired');
  }

  // Sink calls wait for the next turn of the event loop and are carried out together, up to
  // BATCH in one unit of work: a fleet crossing a threshold at once (hundreds of alerts opening
  // within a second) then costs a few transactions, not hundreds queued before every other use
  // of the database. Calls of one condition keep their order.
  const queued: { op: SinkOp; key: string; done: () => void; failed: (err: unknown) => void }[] =
    [];
  let draining = false;

  const submit = (op: SinkOp) =>
    new Promise<void>((done, failed) => {
      const key = dedupKey(op.kind === 'fire' ? op.signal : op.key);
      queued.push({ op, key, done, failed });
      if (draining) return;
      draining = true;
      setImmediate(() => void drain());
    });

  async function drain(): Promise<void> {
    try {
      while (queued.length > 0) {
        const batch = queued.splice(0, BATCH);
        await carryOut(batch).catch((err: unknown) => {
          for (const b of batch) b.failed(err);
        });
        // SQLite's queries run on this thread: a turn for the rest between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      draining = false;
    }
  }

  async function carryOut(batch: typeof queued): Promise<void> {
    // In the order of their keys (stable: one condition's calls stay in order), so that two
    // processes' batches on PostgreSQL take the keys' locks in one order.
    const ordered = batch.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const out: Published = [];
    let won: boolean[] | undefined;
    try {
      won = await transact(async (s) => {
        const seen = readsOnce(now());
        const r: boolean[] = [];
        for (const b of ordered) r.push(await once(s, out, b.op, seen));
        return r;
      });
    } catch {
      // One call failed the unit of work: each on its own below, so that only it fails.
    }
    if (won) {
      try {
        await steps.publish(out);
      } catch (err) {
        // Recorded, but not told: the callers hear of it.
        for (const b of ordered) b.failed(err);
        return;
      }
    }
    for (let i = 0; i < ordered.length; i++) {
      const b = ordered[i]!;
      if (won?.[i]) b.done();
      else await alone(b.op).then(b.done, b.failed);
    }
  }

  const sink: AlertSink = {
    async fire(signal) {
      if (!(SEVERITIES as readonly string[]).includes(signal.severity))
        throw bad(`severity: "${signal.severity}" is not a severity`);
      return submit({ kind: 'fire', signal });
    },
    async clear(key, _at) {
      return submit({ kind: 'clear', key });
    },
    async open() {
      const rows = await store.open();
      return rows.map((r) => ({
        ruleId: r.rule_id,
        hostId: r.host_id,
        labels: r.labels,
        severity: r.severity as Severity,
      }));
    },
  };

  return {
    /** Where the evaluator reports conditions. */
    sink,
    ...sink,

    /**
     * A person's action on an alert, audited (`alert.<action>`); answers the alert after it.
     * @throws VigilError not_found (`alert.not_found`); conflict (`transition.invalid`) from a
     * state the action does not start from; bad_data for a silence's `until` that is not in the
     * future or more than a year ahead.
     */
    async act(
      ctx: RequestContext,
      id: string,
      action: AlertAction,
      body: { reason?: string; until?: string } = {},
    ): Promise<AlertItem> {
      const spec = ACTIONS[action];
      let until: number | undefined;
      if (action === 'silence') {
        if (typeof body.until !== 'string') throw bad('until: is required');
        until = parseTime('until', body.until);
        if (until <= now()) throw bad('until: must be in the future');
        if (until > now() + MAX_SILENCE_MS) throw bad('until: must be at most a year ahead');
      }
      const out: Published = [];
      await audited(
        ctx,
        { action: `alert.${action}`, resourceType: 'alert', resourceId: id },
        async (s, draft) => {
          const a = await s.alerts.get(id);
          if (!a) throw notFound(id);
          if (!spec.from.includes(a.state)) throw invalid(a.state, spec.done);
          const moved = await move(s, out, a, spec.to, {
            event: spec.event,
            actor: ctx.actor,
            reason: body.reason ?? null,
            extra:
              action === 'silence'
                ? { silenced_until: until!, silenced_from: a.state, silence_id: null }
                : undefined,
          });
          // Another request moved it between the read and the change.
          if (!moved) {
            const now2 = await s.alerts.get(id);
            throw invalid(now2?.state ?? a.state, spec.done);
          }
          draft.entry.detail = {
            from: a.state,
            to: spec.to,
            ...(body.reason ? { reason: body.reason } : {}),
            ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
          };
        },
      );
      await steps.publish(out);
      return (await reads.get(id)).alert;
    },

    /**
     * Ends the silences whose time passed: each silenced alert whose `silenced_until` is past
     * goes back to what it was (`active`, or `acknowledged`); and puts the open alerts that a
     * silence which started since (a `starts_at` in the future when it was made) matches under
     * it, once. Run periodically.
     */
    async expireSilences(): Promise<number> {
      let moved = 0;
      for (const a of await store.silenceEnded(now()))
        if (await unsilence(a, SYSTEM, 'silence ended')) moved += 1;
      for (const silence of await store.unapplied(now())) moved += await applySilence(silence);
      return moved;
    },

    /**
     * Puts the open alerts a silence matches now under it, once per silence (it is marked
     * applied); returns how many it silenced.
     */
    applySilence: (silence: SilenceRecord) => applySilence(silence),

    /** Returns the alerts a silence silenced to what they were. */
    async releaseSilence(silenceId: string, actor: Actor, reason: string): Promise<number> {
      let n = 0;
      for (const a of await store.silencedBy(silenceId)) if (await unsilence(a, actor, reason)) n++;
      return n;
    },

    ...reads,
  };

  async function unsilence(a: AlertRecord, actor: Actor, reason: string): Promise<boolean> {
    return work(async (s, out) => {
      const back = (a.silenced_from === 'acknowledged' ? 'acknowledged' : 'active') as AlertState;
      const maintenance = await inMaintenance(s, a.host_id, now());
      const moved = await move(s, out, a, back, {
        event: 'unsilenced',
        actor,
        reason,
        extra: { suppressed: maintenance },
      });
      return moved !== undefined;
    });
  }

  async function applySilence(silence: SilenceRecord): Promise<number> {
    // Once per silence, when it starts: an alert a person moved out of it later stays out.
    if ((await store.markApplied(silence.id, now())) !== 1) return 0;
    let n = 0;
    const candidates = await store.open({
      hostId: silence.host_id ?? undefined,
      ruleId: silence.rule_id ?? undefined,
      states: ['active', 'acknowledged'],
    });
    for (const a of candidates) {
      if (!matches(silence, { hostId: a.host_id, ruleId: a.rule_id, labels: a.labels })) continue;
      const moved = await work((s, out) =>
        move(s, out, a, 'silenced', {
          event: 'silenced',
          actor: SYSTEM,
          reason: `silence: ${silence.reason}`,
          extra: {
            silenced_until: silence.ends_at,
            silenced_from: a.state,
            silence_id: silence.id,
            suppressed: true,
          },
        }),
      );
      if (moved) n += 1;
    }
    return n;
  }
}

/** The alert lifecycle. */
export type AlertLifecycle = ReturnType<typeof createAlertLifecycle>;

/** Keys and severities of open alerts, as `AlertSink.open` gives them. */
export type OpenKey = AlertKey & { severity: Severity };
