import type { DStream } from "../dstream/dstream.js";

/**
 * The batch times a stream currently keeps in memory (ascending), to test remember durations.
 *
 * @example
 * cachedBatchTimes(windowed); // [8000, 9000, 10000]
 */
export function cachedBatchTimes(stream: DStream<unknown>): number[] {
  return stream.generatedTimes();
}
