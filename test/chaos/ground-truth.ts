// What the chaos job's outputs must be, computed from the records produced, and the checks that
// compare them: every per-batch count exactly once, totals equal to the running sum of the
// counts, every window equal to the sum of the counts inside it.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { WINDOW_BATCHES } from "./jobs/word-count-settings.js";

/** Per batch time, the `[word, number]` rows of one output. */
export type RowsByTime = Map<number, Map<string, number>>;

/** Counts the words of `lines` into `counts`. */
export function countWords(lines: readonly string[], counts: Map<string, number>): void {
  for (const line of lines) {
    for (const word of line.split(" ")) {
      if (word !== "") counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
}

/** The rows the file sink wrote into `directory` (files `<prefix>-<time>-<partition>.jsonl`). */
export async function readFileOutput(directory: string): Promise<RowsByTime> {
  const rows: RowsByTime = new Map();
  for (const name of await readdir(directory).catch(() => [] as string[])) {
    const match = /-(\d{16})-\d{5}\.jsonl$/.exec(name);
    if (match === null || name.startsWith(".")) continue;
    const time = Number(match[1]);
    const byWord = rows.get(time) ?? new Map<string, number>();
    rows.set(time, byWord);
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line === "") continue;
      const [word, count] = JSON.parse(line) as [string, number];
      if (byWord.has(word))
        throw new Error(`${name}: ${word} appears twice in the batch at ${time}`);
      byWord.set(word, count);
    }
  }
  return rows;
}

/** The sum over every batch of the per-batch counts. */
export function sumOverBatches(counts: RowsByTime): Map<string, number> {
  const sum = new Map<string, number>();
  for (const byWord of counts.values()) {
    for (const [word, count] of byWord) sum.set(word, (sum.get(word) ?? 0) + count);
  }
  return sum;
}

/** Map → sorted entries, for readable comparisons. */
export function sorted(map: ReadonlyMap<string, number>): [string, number][] {
  return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Problems with the totals and windows given the per-batch counts: the totals at each batch time
 * must be the counts summed up to it, each window the counts inside it. Empty when consistent.
 */
export function consistencyProblems(
  counts: RowsByTime,
  totals: RowsByTime,
  windows: RowsByTime,
  batchIntervalMs: number,
): string[] {
  const problems: string[] = [];
  const times = [...counts.keys()].sort((a, b) => a - b);
  for (const [time, byWord] of totals) {
    const expected = new Map<string, number>();
    for (const countTime of times) {
      if (countTime > time) break;
      for (const [word, count] of counts.get(countTime) ?? []) {
        expected.set(word, (expected.get(word) ?? 0) + count);
      }
    }
    if (JSON.stringify(sorted(byWord)) !== JSON.stringify(sorted(expected))) {
      problems.push(
        `totals at ${time}: ${JSON.stringify(sorted(byWord))} != ${JSON.stringify(sorted(expected))}`,
      );
    }
  }
  const windowMs = WINDOW_BATCHES * batchIntervalMs;
  for (const [time, byWord] of windows) {
    const expected = new Map<string, number>();
    for (const countTime of times) {
      if (countTime <= time - windowMs || countTime > time) continue;
      for (const [word, count] of counts.get(countTime) ?? []) {
        expected.set(word, (expected.get(word) ?? 0) + count);
      }
    }
    if (JSON.stringify(sorted(byWord)) !== JSON.stringify(sorted(expected))) {
      problems.push(
        `window at ${time}: ${JSON.stringify(sorted(byWord))} != ${JSON.stringify(sorted(expected))}`,
      );
    }
  }
  return problems;
}

/** The rows of a Cassandra table the job wrote: per batch time (or `0` for totals), per word. */
export async function readCassandraRows(
  client: {
    execute(
      query: string,
      params?: unknown[],
      options?: object,
    ): Promise<{ rows: { get(name: string): unknown }[] }>;
  },
  keyspace: string,
  table: string,
  valueColumn: "count" | "total",
  byBatch: boolean,
): Promise<RowsByTime> {
  const rows: RowsByTime = new Map();
  const columns = byBatch ? `batch_time, word, ${valueColumn}` : `word, ${valueColumn}`;
  const result = await client.execute(`SELECT ${columns} FROM ${keyspace}.${table}`, [], {
    prepare: true,
    fetchSize: 100_000,
  });
  for (const row of result.rows) {
    const time = byBatch ? Number(row.get("batch_time")) : 0;
    const byWord = rows.get(time) ?? new Map<string, number>();
    rows.set(time, byWord);
    byWord.set(String(row.get("word")), Number(row.get(valueColumn)));
  }
  return rows;
}
