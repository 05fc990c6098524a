import type { DStream, PairColumns, SourceRecord } from "sluice";
import { streamsJob } from "sluice/testing";
import { ColumnarBatch } from "../../../src/dstream/columnar-batch.js";

// Build functions of column-mapped.test.ts, exported so executors can import them.
const url = import.meta.url;
const decoder = new TextDecoder();

/** Each partition's pairs read back from its columns, key bytes decoded here. */
function pairsOf({ rows, keys, values }: PairColumns): [string, number][] {
  const pairs: [string, number][] = [];
  for (let row = 0; row < rows; row++) {
    const key = keys.bytes.subarray(keys.offsets[row], keys.offsets[row + 1]);
    pairs.push([decoder.decode(key), values[row] as number]);
  }
  return pairs;
}

/**
 * The key buffers each batch's count holds and the ones `mapPairColumns` was given, in the
 * order they were seen (local[1] only: executors have their own copies).
 */
export const seenBuffers = { count: [] as ArrayBufferLike[], mapped: [] as ArrayBufferLike[] };

/** A columnar count read back through its columns. */
export const countedColumns = streamsJob(
  url,
  "countedColumns",
  (records: DStream<SourceRecord>) => {
    const counts = records.words().countByValue(2);
    counts.foreachBatch((batch) => {
      // Only the columns: reading `partitions` would decode them.
      if (batch instanceof ColumnarBatch) {
        for (const partition of batch.columns) {
          if (partition.kind === "pairs") seenBuffers.count.push(partition.keys.keys.buffer);
        }
      }
    });
    return counts.mapPairColumns((columns) => {
      seenBuffers.mapped.push(columns.keys.bytes.buffer);
      return pairsOf(columns);
    });
  },
);

/** The same count as a lambda, its pairs encoded into columns for the function. */
export const lambdaColumns = streamsJob(url, "lambdaColumns", (lines: DStream<string>) =>
  lines
    .flatMap((line) => line.split(/\s+/).filter((word) => word !== ""))
    .map((word): [string, number] => [word, 1])
    .reduceByKey((a, b) => a + b, 2)
    .mapPairColumns(pairsOf),
);

/** The words of each line read from the parser's rows, as lengths in bytes with their partition. */
export const wordLengths = streamsJob(url, "wordLengths", (records: DStream<SourceRecord>) =>
  records.words().mapTextColumns(({ rows, text }, partition) => {
    const lengths: string[] = [];
    for (let row = 0; row < rows; row++) {
      lengths.push(
        `${partition}:${(text.offsets[row + 1] as number) - (text.offsets[row] as number)}`,
      );
    }
    return lengths;
  }),
);

/** The same lengths from strings, encoded into rows for the function. */
export const stringLengths = streamsJob(url, "stringLengths", (lines: DStream<string>) =>
  lines.mapTextColumns(({ rows, text }) => [
    `${rows} rows, ${text.bytes.length} bytes, ${decoder.decode(text.bytes)}`,
  ]),
);

/** Sums of each partition's numbers, read as one column. */
export const numberSums = streamsJob(url, "numberSums", (numbers: DStream<number>) =>
  numbers.mapNumberColumns(({ values }, partition) => [
    [partition, values.reduce((sum, value) => sum + value, 0)],
  ]),
);

/** Pairs whose value is not a number, declared as pairs. */
export const badPairs = streamsJob(url, "badPairs", (words: DStream<string>) =>
  words
    .map((word) => [word, word.length === 2 ? "two" : word.length] as unknown as [string, number])
    .mapPairColumns(pairsOf),
);
