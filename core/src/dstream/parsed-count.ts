import type { Kernels, KeyColumn, Utf8Groups } from "../kernels/kernels.js";
import { ByteParsedDStream, parsePartition } from "./byte-parsed-dstream.js";
import type { ByteParser } from "./byte-parser.js";
import type { DStream } from "./dstream.js";
import { PairedWithOneDStream } from "./paired-with-one-dstream.js";

/** A byte parser whose rows are text (every kind but `jsonNumberField`). */
export type TextParser = Exclude<ByteParser, { kind: "jsonNumberField" }>;

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
  if (readers(stream) > 1 || readers(parsed) > 1) return undefined;
  return parsed as ByteParsedDStream<string> & { readonly parser: TextParser };
}

/** How many streams of the graph read `stream` (its children, outputs included). */
function readers(stream: DStream<unknown>): number {
  let count = 0;
  for (const other of stream.scope.streams.values()) {
    if (other.dependencies.includes(stream)) count++;
  }
  return count;
}

/**
 * Every distinct value `parser` finds in `values` with its occurrences, in first-seen order: the
 * same rows as the parser's column reduced with `count`.
 *
 * @example
 * await countParsed(kernels, { kind: "words" }, column); // { keys: "a b", values: [2, 1] }
 */
export async function countParsed(
  kernels: Kernels,
  parser: TextParser,
  values: KeyColumn,
): Promise<Utf8Groups> {
  const parsed = parsePartition(kernels, parser, values) as { readonly keys: KeyColumn };
  return kernels.reduceByKeyUtf8Async(parsed.keys, NO_VALUES, "count");
}

const NO_VALUES = new Float64Array(0);
