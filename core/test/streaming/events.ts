import type { StreamingContext, StreamingListener } from "sluice";

type EventName = keyof StreamingListener;
type EventOf<N extends EventName> = Parameters<NonNullable<StreamingListener[N]>>[0];

/** Resolves with the next `name` event that `matches` accepts (then stops listening). */
export function nextEvent<N extends EventName>(
  ctx: StreamingContext,
  name: N,
  matches: (event: EventOf<N>) => boolean = () => true,
): Promise<EventOf<N>> {
  return new Promise((resolve) => {
    const listener: StreamingListener = {
      [name]: (event: EventOf<N>) => {
        if (!matches(event)) return;
        ctx.removeListener(listener);
        resolve(event);
      },
    };
    ctx.addListener(listener);
  });
}

/** Resolves once the batch at `time` has completed. */
export function batchCompleted(ctx: StreamingContext, time: number): Promise<unknown> {
  return nextEvent(ctx, "onBatchCompleted", (info) => info.batchTime === time);
}

/** Lets pending promise callbacks and I/O callbacks run (one turn of the event loop). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A promise with its resolve function, to hold a job until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
