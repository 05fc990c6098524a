// The word count the end-to-end tests of the RabbitMQ and MQTT connectors run: lines in,
// per-batch counts to the file sink, running totals upserted into Cassandra; and the ground
// truth to compare both with.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Client } from "cassandra-driver";
import type { DStream, SourceRecord } from "sluice";
import { CONTACT_POINTS } from "../cassandra/cassandra-helpers.js";

const WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota"];
const decoder = new TextDecoder();

/** Deterministic lines of 1 to 6 words (a seeded linear congruential generator). */
export function lines(count: number, seed: number): string[] {
  let state = seed;
  const next = (bound: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % bound;
  };
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + next(6) }, () => WORDS[next(WORDS.length)]).join(" "),
  );
}

/** How often each word occurs in `texts`: the ground truth. */
export function countWords(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of text.split(" ").filter(Boolean)) {
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return counts;
}

/** Where the job writes: a Cassandra table of running totals and a folder of per-batch counts. */
export interface WordCountOutputs {
  readonly keyspace: string;
  readonly table: string;
  readonly directory: string;
}

/**
 * Builds the job on `lines`: words counted per batch (named reduction), written to the file
 * sink as "word count" lines; running totals kept with updateStateByKey and upserted into
 * Cassandra.
 */
export function wordCount(lines: DStream<SourceRecord>, outputs: WordCountOutputs): void {
  const counts = lines
    .flatMap((record) => decoder.decode(record.value).split(" ").filter(Boolean))
    .map((word): [string, number] => [word, 1])
    .reduceByKey("sum");
  counts
    .updateStateByKey((values: number[], total: number | undefined) =>
      values.reduce((sum, value) => sum + value, total ?? 0),
    )
    .map(([word, total]) => JSON.stringify({ word, total }))
    .sink("cassandra", {
      contactPoints: CONTACT_POINTS,
      keyspace: outputs.keyspace,
      table: outputs.table,
      schema: { columns: { word: "text", total: "bigint" }, partitionKey: ["word"] },
    });
  counts
    .map(([word, count]) => `${word} ${count}`)
    .sink("file", { directory: outputs.directory, prefix: "counts" });
}

/** The per-batch counts the file sink wrote, summed per word. */
export async function fileCounts(directory: string): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  const files = (await readdir(directory)).filter((name) => name.startsWith("counts-"));
  for (const name of files) {
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line === "") continue;
      const [word = "", count] = line.split(" ");
      sums.set(word, (sums.get(word) ?? 0) + Number(count));
    }
  }
  return sums;
}

/** The running totals in Cassandra. */
export async function cassandraTotals(
  client: Client,
  outputs: WordCountOutputs,
): Promise<Map<string, number>> {
  const rows = await client.execute(`SELECT word, total FROM ${outputs.keyspace}.${outputs.table}`);
  return new Map(rows.rows.map((row) => [String(row.get("word")), Number(row.get("total"))]));
}

/** Waits until the file sink has written `words` words in all, or fails after `timeoutMs`. */
export async function untilCounted(
  directory: string,
  words: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counted = [...(await fileCounts(directory)).values()].reduce((a, b) => a + b, 0);
    if (counted >= words) return;
    if (Date.now() > deadline) {
      throw new Error(`the job output ${counted} of ${words} words within ${timeoutMs} ms`);
    }
    // Files appear once per batch; look again after about one batch interval.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
