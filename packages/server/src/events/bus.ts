/**
 * The event bus: services publish what happened, live views subscribe. In-process for now;
 * several server processes will share events through PostgreSQL LISTEN/NOTIFY behind this same
 * interface.
 */
export interface EventBus {
  /** Delivers `event` to every current subscriber of `topic`, synchronously, in order. */
  publish<T>(topic: string, event: T): void;
  /** Subscribes to a topic; returns the function that unsubscribes. */
  subscribe<T>(topic: string, fn: (event: T) => void): () => void;
  /** Whether anyone listens to `topic` (publishers skip costly work otherwise). */
  hasSubscribers(topic: string): boolean;
}

/** An in-process event bus. A subscriber that throws does not stop the others. */
export function createEventBus(onError: (err: unknown) => void = () => undefined): EventBus {
  const topics = new Map<string, Set<(event: unknown) => void>>();
  return {
    publish(topic, event) {
      for (const fn of topics.get(topic) ?? []) {
        try {
          fn(event);
        } catch (err) {
          onError(err);
        }
      }
    },
    subscribe(topic, fn) {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(fn as (event: unknown) => void);
      return () => {
        set.delete(fn as (event: unknown) => void);
        if (set.size === 0) topics.delete(topic);
      };
    },
    hasSubscribers: (topic) => (topics.get(topic)?.size ?? 0) > 0,
  };
}
