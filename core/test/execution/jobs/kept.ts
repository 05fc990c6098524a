import { existsSync, writeFileSync } from "node:fs";

/** True for the one caller that creates `file` (both executors may race for it). */
function createdFirst(file: string): boolean {
  try {
    writeFileSync(file, "exited", { flag: "wx" });
    return true;
  } catch {
    return false;
  }
}

import { type DStream, defineJob, type ParallelCollection } from "sluice";

// Jobs for kept-partitions.test.ts: each queue holds persisted collections the driver made from
// the lines the test gives through `lines` (executors never read inputs).

/** Lines per collection, by the test's name for the job; each collection serves two batches. */
export const lines = new Map<string, string[][]>();
/** The collections each job made, by the same name (the driver's). */
export const collections = new Map<string, ParallelCollection<string>[]>();
/** What each job's output received per batch, by the same name: sorted `[word, count]` rows. */
export const outputs = new Map<string, [string, number][][]>();

export interface KeptArgs {
  readonly name: string;
  /** When this file does not exist yet, the first record mapped creates it and exits its thread (one thread only). */
  readonly exitMarker?: string;
  /** Partitions per collection (default 2). */
  readonly slices?: number;
}

/** The word count of each batch over a queue of persisted collections, each taken twice. */
export const keptWordCount = defineJob((ctx, args: KeptArgs) => {
  const made = (lines.get(args.name) ?? []).map((batch) =>
    ctx.parallelize(batch, args.slices ?? 2).persist(),
  );
  collections.set(args.name, made);
  const queue = made.flatMap((collection) => [collection, collection]);
  const words: DStream<string> = ctx.queueStream(queue).flatMap((line) => {
    const marker = args.exitMarker;
    if (marker !== undefined && !existsSync(marker) && createdFirst(marker)) process.exit(7);
    return line.split(" ");
  });
  const received: [string, number][][] = [];
  outputs.set(args.name, received);
  words
    .map((word): [string, number] => [word, 1])
    .reduceByKey((a, b) => a + b)
    .foreachBatch((batch) => {
      received.push(batch.partitions.flat().sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    });
});

/** A persisted collection of functions, which cannot cross to an executor. */
export const keptFunctions = defineJob((ctx, name: string) => {
  const functions = ctx.parallelize([() => 1, () => 2], 2).persist();
  ctx
    .queueStream([functions])
    .map((f) => typeof f)
    .foreachBatch((batch) => {
      outputs.set(name, [batch.partitions.flat().map((kind): [string, number] => [kind, 1])]);
    });
});
