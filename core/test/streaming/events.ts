import type { StreamingContext, StreamingListener } from "sluice";
import type { ManualClock } from "sluice/testing";

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

/** Advances `clock` one interval (1 s) and waits for that batch to complete. */
export async function nextBatch(ctx: StreamingContext, clock: ManualClock): Promise<void> {
  const done = batchCompleted(ctx, clock.now() + 1000);
  clock.advance(1000);
  await done;
}

/**
 * Advances one interval at a time until `done()` holds: the connector sources behind
 * socketTextStream, textFileStream and binaryRecordsStream read on their own (a TCP stream, a
 * folder), so a test cannot know in which batch a record lands, only that it lands. Fails after
 * a generous deadline.
 */
export async function batchesUntil(
  ctx: StreamingContext,
  clock: ManualClock,
  done: () => boolean,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within 20 s`);
    await nextBatch(ctx, clock);
    // Lets the sources' socket and file callbacks run before the next batch is cut.
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
