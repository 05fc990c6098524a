import type { StreamingContext } from "../context/streaming-context.js";
import type { DStream } from "../dstream/dstream.js";
import { SourceInputDStream } from "../plugins/source-input-dstream.js";

/**
 * The batch times a stream currently keeps in memory (ascending), to test remember durations.
 *
 * @example
 * cachedBatchTimes(windowed); // [8000, 9000, 10000]
 */
export function cachedBatchTimes(stream: DStream<unknown>): number[] {
  return stream.generatedTimes();
}

/**
 * The records the context's connector inputs have received that no batch holds yet — what the
 * next batch takes. A test that moves a manual clock waits for this before it ends a batch,
 * since sources read in the background.
 *
 * @example
 * await until(() => waitingInputRecords(ctx) === linesDropped);
 */
export function waitingInputRecords(ctx: StreamingContext): number {
  let waiting = 0;
  for (const input of ctx.scope.graph.inputs) {
    if (input instanceof SourceInputDStream) waiting += input.flow.waitingRecords;
  }
  return waiting;
}
