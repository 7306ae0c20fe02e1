/**
 * The event bus: services publish what happened, live views subscribe. In-process for now;
 * several server processes will share events through PostgreSQL LISTEN/NOTIFY behind this same
 * interface.
 *
 * A subscriber is synchronous (a live view that renders and forwards: it returns nothing) or
 * asynchronous (one that writes somewhere: it returns a promise, or nothing when it had no work
 * to wait for). `publish` lets asynchronous work run on its own; `deliver` waits for it, so that a
 * publisher can answer its caller only once every subscriber has taken the event in.
 */
export interface EventBus {
  /**
   * Delivers `event` to every current subscriber of `topic`, in order of subscription, and waits
   * for none of them. A subscriber that throws, or whose promise rejects, is reported to the
   * bus's `onError`; the others still get the event.
   */
  publish<T>(topic: string, event: T): void;
  /**
   * Delivers `event` as `publish` does, then waits for the promises the subscribers returned.
   * Returns undefined when none returned one (nothing to wait for: the hot path takes no extra
   * turn), else a promise that resolves once all of them settled. It never rejects: a failing
   * subscriber is reported to `onError` and does not fail the publisher.
   */
  deliver<T>(topic: string, event: T): Promise<void> | undefined;
  /**
   * Subscribes to a topic; returns the function that unsubscribes. `fn` must not change the
   * event (every subscriber gets the same object). A subscriber on a hot topic keeps its
   * synchronous part cheap, and returns a promise only when it has work to wait for.
   */
  subscribe<T>(topic: string, fn: (event: T) => void | Promise<void>): () => void;
  /** Whether anyone listens to `topic` (publishers skip costly work otherwise). */
  hasSubscribers(topic: string): boolean;
}

type Subscriber = (event: unknown) => void | Promise<void>;

/** An in-process event bus. A subscriber that fails does not stop the others. */
export function createEventBus(onError: (err: unknown) => void = () => undefined): EventBus {
  const topics = new Map<string, Set<Subscriber>>();

  /** Calls every subscriber of `topic`; the promises they returned, or undefined for none. */
  function call(topic: string, event: unknown): Promise<void>[] | undefined {
    let pending: Promise<void>[] | undefined;
    for (const fn of topics.get(topic) ?? []) {
      try {
        const r = fn(event);
        if (r instanceof Promise) (pending ??= []).push(r.catch(onError));
      } catch (err) {
        onError(err);
      }
    }
    return pending;
  }

  return {
    publish(topic, event) {
      // Let go: each promise already reports its failure to onError.
      void call(topic, event);
    },
    deliver(topic, event) {
      const pending = call(topic, event);
      if (pending === undefined) return undefined;
      return pending.length === 1 ? pending[0] : Promise.all(pending).then(() => undefined);
    },
    subscribe(topic, fn) {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(fn as Subscriber);
      return () => {
        set.delete(fn as Subscriber);
        if (set.size === 0) topics.delete(topic);
      };
    },
    hasSubscribers: (topic) => (topics.get(topic)?.size ?? 0) > 0,
  };
}
