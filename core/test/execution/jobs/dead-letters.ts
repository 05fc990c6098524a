import { existsSync, writeFileSync } from "node:fs";
import { defineJob, type SourceRecord } from "sluice";

// Jobs for executor-dead-letters.test.ts: functions that throw on some records, in a job with a
// dead-letter sink, run on executor threads. Inputs come from queues the test fills (on the
// driver; executors never read inputs).

/** Batches each context's queue serves, by the test's name for it. */
export const queues = new Map<string, SourceRecord[][]>();
/** What each context's output received, batch by batch, by the same name. */
export const outputs = new Map<string, number[][]>();

export interface ParsedNumbersArgs {
  readonly name: string;
  /** The dead-letter sink's folder (the file sink, JSON lines). */
  readonly deadLetters: string;
  /** When set, partition 0's first attempt fails after its functions ran (the file remembers it). */
  readonly failOnceMarker?: string;
}

const decoder = new TextDecoder();

/**
 * Parses each record's text as JSON (`map`), refuses 13 (`filter`), then doubles: "{oops" fails
 * the map and 13 the filter, on whichever executor runs their partition.
 */
export const parsedNumbers = defineJob((ctx, args: ParsedNumbersArgs) => {
  ctx.deadLetters("file", { directory: args.deadLetters, format: "jsonl" });
  const queue = queues.get(args.name) ?? [];
  queues.set(args.name, queue);
  const received: number[][] = [];
  outputs.set(args.name, received);
  ctx
    .queueStream(queue)
    .map((record) => JSON.parse(decoder.decode(record.value)) as number)
    .filter((n) => {
      if (n === 13) throw new Error("13 is refused");
      return true;
    })
    .mapPartitions((numbers, index) => {
      const marker = args.failOnceMarker;
      // One partition's task only: the two tasks may run at once on the two executors.
      if (marker !== undefined && index === 0 && !existsSync(marker)) {
        writeFileSync(marker, "failed once");
        throw new Error("the first attempt fails");
      }
      return numbers.map((n) => n * 2);
    })
    .foreachBatch((batch) => {
      received.push(batch.partitions.flat().sort((a, b) => a - b));
    });
});
