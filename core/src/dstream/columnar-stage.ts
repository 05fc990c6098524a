import { ByteParsedDStream } from "./byte-parsed-dstream.js";
import type { DStream } from "./dstream.js";
import { NamedReducedDStream } from "./named-reduced-dstream.js";
import { PairedWithOneDStream } from "./paired-with-one-dstream.js";

/**
 * True when `stream` is a columnar stage: a byte parser, or the pairing and named reduction
 * after one. Columnar stages run on the driver even under `local[N]`: their kernels take one
 * call per partition on the native module's own threads (the libuv pool), so their bytes never
 * cross to an executor thread and back — under `local[N]` that copy cost more than the executors
 * saved (strings cloned to the workers, buckets relayed through the driver).
 *
 * @example
 * isColumnarStage(ctx.source("socket", options).words()); // true
 */
export function isColumnarStage(stream: DStream<unknown>): boolean {
  if (stream instanceof ByteParsedDStream) return true;
  if (stream instanceof PairedWithOneDStream || stream instanceof NamedReducedDStream) {
    return isColumnarStage(stream.parent as DStream<unknown>);
  }
  return false;
}
