// A cluster job with state across batches, for the keyed tasks' tests: a running word count
// (updateStateByKey, and again with mapWithState), a sliding window of 3 batches with an
// inverse (reduceByKeyAndWindow) and the per-batch counts (reduceByKey), or instead the counts
// and windows by one combineByKey or by the named "count" (the map side then combines),
// written into an in-memory table that upserts like Cassandra does. Every process of a test
// (and every keyed task it runs) imports this module, so they share `tables`.
import { type Batch, type DStream, type Duration, defineJob } from "sluice";

/** Each process's input: the lines of each of its batches. */
export interface KeyedJobArgs {
  readonly batches: string[][];
  /**
   * Only the reductions (the window and the per-batch counts, by one function), so that the
   * map side combines each word's ones before they cross.
   */
  readonly reduceOnly?: boolean;
  /**
   * Instead, only the per-batch counts and windows of 3 batches by one `combineByKey` (each
   * word's ones as a sum and a number of values) or by the named `"count"`, for which the map
   * side sends each word's combiner or count; `"countByValue"` counts the words with
   * `countByValue()` and `countByValueAndWindow`, two counts of one stream.
   */
  readonly combinedBy?: "combineByKey" | "count" | "countByValue";
  /**
   * Also write, with the file sink into this folder, each batch's counts as `word count` lines
   * (from the keyed tasks) and its words (where the input is read); and the counts again with
   * `saveAsTextFiles`.
   */
  readonly fileOutput?: string;
  /** The running totals ask for this checkpoint interval (`checkpoint(interval)`). */
  readonly checkpointEvery?: Duration;
}

/** table name → row key → value; a row written again is replaced (an upsert). */
export const tables = new Map<string, Map<string, number>>();

function upsert(table: string, rows: ReadonlyArray<readonly [string, number]>): void {
  let rowsOf = tables.get(table);
  if (rowsOf === undefined) {
    rowsOf = new Map();
    tables.set(table, rowsOf);
  }
  for (const [key, value] of rows) rowsOf.set(key, value);
}

/** The sliding window of 3 batches (with an inverse) and the per-batch counts, both by `add`. */
function windowsAndBatches(
  pairs: DStream<[string, number]>,
  add: (a: number, b: number) => number,
): void {
  pairs
    .reduceByKeyAndWindow(add, {
      window: "3s",
      slide: "1s",
      inverse: (a, b) => a - b,
      filter: ([, count]) => count !== 0,
    })
    .foreachBatch((batch, time) =>
      upsert(
        "windows",
        batch.partitions.flat().map(([word, count]) => [`${time}|${word}`, count] as const),
      ),
    );
  pairs.reduceByKey(add).foreachBatch((batch, time) =>
    upsert(
      "batches",
      batch.partitions.flat().map(([word, count]) => [`${time}|${word}`, count] as const),
    ),
  );
}

/** A combiner of a word's values: their sum and how many there are. */
interface Tally {
  readonly sum: number;
  readonly n: number;
}

/**
 * The per-batch counts ("batches"; for combineByKey also the sums, "sums") and the windows of
 * 3 batches ("windows"), by one `combineByKey` or by the named `"count"`.
 */
/** Writes each batch's `[word, value]` pairs as `time|word` rows of `of(value)`. */
function upsertBatch<V>(table: string, of: (value: V) => number) {
  return (batch: Batch<[string, V]>, time: number) =>
    upsert(
      table,
      batch.partitions.flat().map(([word, value]) => [`${time}|${word}`, of(value)] as const),
    );
}

function combinedBy(pairs: DStream<[string, number]>, by: "combineByKey" | "count"): void {
  if (by === "count") {
    const counts = pairs.reduceByKey("count");
    counts.foreachBatch(upsertBatch("batches", (count: number) => count));
    counts
      .reduceByKeyAndWindow("sum", "3s", "1s")
      .foreachBatch(upsertBatch("windows", (count: number) => count));
    return;
  }
  const mergeCombiners = (a: Tally, b: Tally): Tally => ({ sum: a.sum + b.sum, n: a.n + b.n });
  const tallies = pairs.combineByKey(
    (one): Tally => ({ sum: one, n: 1 }),
    (tally, one) => ({ sum: tally.sum + one, n: tally.n + 1 }),
    mergeCombiners,
  );
  tallies.foreachBatch(upsertBatch("batches", (tally: Tally) => tally.n));
  tallies.foreachBatch(upsertBatch("sums", (tally: Tally) => tally.sum));
  tallies
    .window("3s", "1s")
    .reduceByKey(mergeCombiners)
    .foreachBatch(upsertBatch("windows", (tally: Tally) => tally.n));
}

export default defineJob<KeyedJobArgs>({
  build(ctx, args) {
    const words = ctx.queueStream(args.batches).flatMap((line) => line.split(" "));
    if (args.combinedBy === "countByValue") {
      words.countByValue().foreachBatch(upsertBatch("batches", (count: number) => count));
      words
        .countByValueAndWindow("3s", "1s")
        .foreachBatch(upsertBatch("windows", (count: number) => count));
      return;
    }
    const pairs = words.map((word): [string, number] => [word, 1]);
    if (args.combinedBy !== undefined) {
      combinedBy(pairs, args.combinedBy);
      return;
    }
    const add = (a: number, b: number) => a + b;
    windowsAndBatches(pairs, add);
    if (args.fileOutput !== undefined) {
      pairs
        .reduceByKey(add)
        .map(([word, count]) => `${word} ${count}`)
        .sink("file", { directory: args.fileOutput, prefix: "counts", format: "lines" });
      pairs
        .map(([word]) => word)
        .sink("file", { directory: args.fileOutput, prefix: "words", format: "lines" });
      pairs.reduceByKey(add).saveAsTextFiles(`${args.fileOutput}/texts`);
    }
    if (args.reduceOnly === true) return;
    const totals = pairs.updateStateByKey((values: number[], total: number | undefined) =>
      values.length === 0 ? total : (total ?? 0) + values.reduce((a, b) => a + b, 0),
    );
    if (args.checkpointEvery !== undefined) totals.checkpoint(args.checkpointEvery);
    totals.foreachBatch((batch) => upsert("totals", batch.partitions.flat()));
    pairs
      .mapWithState<string, number, number, [string, number]>({
        fn: (word, one, state) => {
          const total = (state.getOption() ?? 0) + (one ?? 0);
          state.update(total);
          return [word, total];
        },
      })
      .foreachBatch((batch) => upsert("mapped", batch.partitions.flat()));
  },
});
