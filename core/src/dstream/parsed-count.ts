import type { KeyColumn, TextParser, Utf8Groups } from "../kernels/kernels.js";
import { concatKeyColumns, isUtf8Column } from "../kernels/key-column.js";
import { ByteParsedDStream } from "./byte-parsed-dstream.js";
import type { DStream } from "./dstream.js";
import { kernelCalls, SYNC_CALL_BELOW_BYTES } from "./kernel-calls.js";
import { concatValues } from "./pair-columns.js";
import { PairedWithOneDStream } from "./paired-with-one-dstream.js";
import type { StreamScope } from "./stream-scope.js";

/**
 * The byte parser whose parsed rows `stream` (a reduction's parent) counts, when nothing else
 * reads the parsed rows or the pairs: then the count runs straight from each partition's bytes
 * (parse and count in one kernel call, on the libuv pool), and neither the parsed column nor the
 * pairs are made. `undefined` for any other parent.
 *
 * @example
 * fusableParsedCount(words.countByValue().parent); // the `words()` stream
 */
export function fusableParsedCount(
  stream: DStream<unknown>,
  time: number,
): (ByteParsedDStream<string> & { readonly parser: TextParser }) | undefined {
  if (!(stream instanceof PairedWithOneDStream)) return undefined;
  const parsed = stream.parent as DStream<unknown>;
  if (!(parsed instanceof ByteParsedDStream) || parsed.parser.kind === "jsonNumberField") {
    return undefined;
  }
  // Already computed (or being computed) for this time: its columns are there to read.
  if (stream.generatedTimes().includes(time) || parsed.generatedTimes().includes(time)) {
    return undefined;
  }
  if (stream.scope.readersOf(stream) > 1 || stream.scope.readersOf(parsed) > 1) return undefined;
  return parsed as ByteParsedDStream<string> & { readonly parser: TextParser };
}

/**
 * `countByValue` of a text parser's rows, from each partition's bytes: every partition parsed
 * and counted in one kernel call (`countParsedAsync`, on the native module's threads, as many at
 * once as the job has cores), its groups already placed into the output partitions; then each output
 * partition's groups merged with a sum, partition after partition (also at once). The same
 * batch as counting the parsed rows: keys in first-seen order, exact integer counts.
 * `undefined` when a group is not valid UTF-8 (bytes then do not group as strings do): the
 * caller counts the parsed rows instead.
 *
 * @example
 * await countParsedPartitions(scope, { kind: "words" }, columns, 2); // one pairs column each
 */
export async function countParsedPartitions(
  scope: StreamScope,
  parser: TextParser,
  inputs: readonly KeyColumn[],
  numPartitions: number,
): Promise<Utf8Groups[] | undefined> {
  const { kernels } = scope;
  const placed = await kernelCalls(scope, inputs, async (values) =>
    values.keys.byteLength < SYNC_CALL_BELOW_BYTES
      ? kernels.countParsed(values, parser, numPartitions)
      : kernels.countParsedAsync(values, parser, numPartitions),
  );
  for (const groups of placed) {
    if (!groups.every((group) => isUtf8Column(group.keys))) return undefined;
  }
  const partitions = Array.from({ length: numPartitions }, (_, partition) => partition);
  return kernelCalls(scope, partitions, async (partition) => {
    const parts = placed.map((groups) => groups[partition] as Utf8Groups);
    const filled = parts.filter((part) => part.values.length > 0);
    if (filled.length <= 1) return filled[0] ?? (parts[0] as Utf8Groups);
    const keys = concatKeyColumns(filled.map((part) => part.keys));
    const values = concatValues(filled.map((part) => part.values));
    return keys.keys.byteLength < SYNC_CALL_BELOW_BYTES
      ? kernels.reduceByKeyUtf8(keys, values, "sum")
      : kernels.reduceByKeyUtf8Async(keys, values, "sum");
  });
}
