// A sink write that the test ends as a stop without draining would: with its `retriesEnd`
// aborted while the write still waits for the server.
import type { Sink, SinkRecord, WriteBatchContext } from "sluice/connector";

/** The write under way, the controller whose abort stands for the stop, and how it ended. */
export interface StoppableWrite {
  /** Aborting it aborts the write's `retriesEnd`. */
  readonly stop: AbortController;
  /** "written" once the write succeeds, or the error it failed with; never rejects. */
  readonly outcome: Promise<unknown>;
}

/**
 * Starts writing `records` with `context` through `sink`, its retries ended by `stop`.
 *
 * @example
 * const { stop, outcome } = stoppableWrite(sink, records, context);
 * stop.abort(new Error("the StreamingContext is stopping without draining"));
 * expect(await outcome).toMatchObject({ code: "SLUICE_CONNECTOR_IO" });
 */
export function stoppableWrite(
  sink: Sink,
  records: readonly SinkRecord[],
  context: WriteBatchContext,
): StoppableWrite {
  const stop = new AbortController();
  const outcome = sink.writeBatch(records, { ...context, retriesEnd: stop.signal }).then(
    () => "written",
    (error: unknown) => error,
  );
  return { stop, outcome };
}
