import type { StreamingListener } from "./listener.js";

type EventName = keyof StreamingListener;
type EventOf<N extends EventName> = Parameters<NonNullable<StreamingListener[N]>>[0];

/**
 * Delivers events to the registered listeners in registration order. A listener that throws is
 * reported as a process warning; the others still get the event.
 *
 * @example
 * bus.post("onBatchCompleted", info);
 */
export class ListenerBus {
  private listeners: StreamingListener[] = [];

  add(listener: StreamingListener): void {
    this.listeners.push(listener);
  }

  remove(listener: StreamingListener): void {
    this.listeners = this.listeners.filter((other) => other !== listener);
  }

  /**
   * True when a registered listener handles `name`: a poster whose event costs something to
   * build (the scheduler posts several per batch, a hundred batches a second at 10 ms) asks
   * first. Asked at each post, so a listener added or given a handler later is seen at once.
   *
   * @example
   * if (bus.listens("onBatchStarted")) bus.post("onBatchStarted", batchInfo(jobSet));
   */
  listens(name: EventName): boolean {
    for (const listener of this.listeners) if (listener[name] !== undefined) return true;
    return false;
  }

  post<N extends EventName>(name: N, event: EventOf<N>): void {
    for (const listener of this.listeners) {
      const handler = listener[name] as ((event: EventOf<N>) => void) | undefined;
      if (handler === undefined) continue;
      try {
        handler.call(listener, event);
      } catch (error) {
        process.emitWarning(`streaming listener ${name} threw: ${String(error)}`, {
          code: "SLUICE_LISTENER_ERROR",
        });
      }
    }
  }
}
