import type { Kernels, KeyColumn, TextParser, Utf8Groups } from "../kernels/kernels.js";
import { concatKeyColumns, isUtf8Column } from "../kernels/key-column.js";
import { ByteParsedDStream, type CountPieces } from "./byte-parsed-dstream.js";
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
 * `countByValue` of a text parser's rows, from each partition's bytes: every partition's pieces
 * parsed and counted one after the other into one counter (`createParsedCounter`, on the
 * native module's threads; partitions at once, as many as the job has cores), its groups placed
 * into the output partitions; then each output partition's groups merged with a sum, partition
 * after partition (also at once). Under `local[N]`, N > 1, the main thread makes a partition's
 * next piece (encodes strings, gathers byte batches) while the pool counts the one before; at
 * `local[1]` one thing runs at a time. The same batch as counting the parsed rows: keys in
 * first-seen order, exact integer counts. `undefined` when a group is not valid UTF-8 (bytes
 * then do not group as strings do): the caller counts the parsed rows instead.
 *
 * @example
 * await countParsedPartitions(scope, { kind: "words" }, [[column]], 2); // one pairs column each
 */
export async function countParsedPartitions(
  scope: StreamScope,
  parser: TextParser,
  inputs: readonly CountPieces[],
  numPartitions: number,
): Promise<Utf8Groups[] | undefined> {
  const { kernels } = scope;
  const ahead = (scope.execution()?.executors ?? 1) > 1;
  const placed = await kernelCalls(scope, inputs, (pieces) =>
    countPieces(kernels, parser, pieces, numPartitions, ahead),
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

/**
 * One partition's pieces counted in order into one counter, its groups placed. With `ahead`,
 * the next piece is made while the pool counts the current one.
 */
async function countPieces(
  kernels: Kernels,
  parser: TextParser,
  pieces: CountPieces,
  numPartitions: number,
  ahead: boolean,
): Promise<Utf8Groups[]> {
  if (pieces.length === 1) {
    const values = made(pieces[0] as CountPieces[number]);
    return values.keys.byteLength < SYNC_CALL_BELOW_BYTES
      ? kernels.countParsed(values, parser, numPartitions)
      : kernels.countParsedAsync(values, parser, numPartitions);
  }
  const counter = kernels.createParsedCounter(parser);
  let next = made(pieces[0] as CountPieces[number]);
  for (let piece = 0; piece < pieces.length; piece++) {
    const values = next;
    const counting =
      values.keys.byteLength < SYNC_CALL_BELOW_BYTES
        ? counter.count(values)
        : counter.countAsync(values);
    const following = pieces[piece + 1];
    if (ahead && following !== undefined) {
      try {
        next = made(following);
      } catch (error) {
        // The count under way settles before the error goes up, so nothing is left unawaited.
        await Promise.resolve(counting).catch(() => undefined);
        throw error;
      }
    }
    await counting;
    if (!ahead && following !== undefined) next = made(following);
  }
  return counter.finish(numPartitions);
}

function made(piece: CountPieces[number]): KeyColumn {
  return typeof piece === "function" ? piece() : piece;
}
