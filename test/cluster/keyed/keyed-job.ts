// A cluster job with state across batches, for the keyed tasks' tests: a running word count
// (updateStateByKey, and again with mapWithState), a sliding window of 3 batches with an inverse (reduceByKeyAndWindow) and
// the per-batch counts (reduceByKey), written into an in-memory table that upserts like
// Cassandra does. Every process of a test (and every keyed task it runs) imports this module,
// so they share `tables`.
import { type DStream, defineJob } from "sluice";

/** Each process's input: the lines of each of its batches. */
export interface KeyedJobArgs {
  readonly batches: string[][];
  /**
   * Only the reductions (the window and the per-batch counts, by one function), so that the
   * map side combines each word's ones before they cross.
   */
  readonly reduceOnly?: boolean;
  /**
   * Also write, with the file sink into this folder, each batch's counts as `word count` lines
   * (from the keyed tasks) and its words (where the input is read); and the counts again with
   * `saveAsTextFiles`.
   */
  readonly fileOutput?: string;
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

export default defineJob<KeyedJobArgs>({
  build(ctx, args) {
    const pairs = ctx
      .queueStream(args.batches)
      .flatMap((line) => line.split(" "))
      .map((word): [string, number] => [word, 1]);
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
    pairs
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.length === 0 ? total : (total ?? 0) + values.reduce((a, b) => a + b, 0),
      )
      .foreachBatch((batch) => upsert("totals", batch.partitions.flat()));
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
