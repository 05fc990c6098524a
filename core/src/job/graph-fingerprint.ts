import type { DStream } from "../dstream/dstream.js";
import { InputDStream } from "../input/input-dstream.js";

/**
 * `id:operator` for every stream of a graph, by id: what the driver and an executor compare to
 * know they built the same graph (inputs count as `input`: executors never compute them).
 *
 * @example
 * graphFingerprint(ctx.scope.streams); // ["0:input", "1:MappedDStream", ...]
 */
export function graphFingerprint(streams: ReadonlyMap<number, DStream<unknown>>): string[] {
  return [...streams.entries()]
    .sort(([a], [b]) => a - b)
    .map(
      ([id, stream]) => `${id}:${stream instanceof InputDStream ? "input" : stream.operatorName}`,
    );
}
