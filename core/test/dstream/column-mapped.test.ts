import type { SourceRecord } from "sluice";
import { ExecutorPool } from "sluice/advanced";
import { runBatches } from "sluice/testing";
import { afterAll, describe, expect, it } from "vitest";
import { columnsView } from "../../src/dstream/partition-columns.js";
import * as jobs from "./jobs/columns.js";

const encoder = new TextEncoder();

function record(value: string, offset: number): SourceRecord {
  return {
    value: encoder.encode(value),
    headers: {},
    timestampMs: 0,
    partition: "p",
    offset: String(offset),
  };
}

/** The lines of `records`, as strings. */
function linesOf(batches: SourceRecord[][]): string[][] {
  const decoder = new TextDecoder();
  return batches.map((batch) => batch.map((r) => decoder.decode(r.value as Uint8Array)));
}

const sorted = <T>(partitions: T[][]): T[] => partitions.flat().sort();

describe("an operation over a partition's columns", () => {
  const pool = new ExecutorPool({ threads: 2 });
  afterAll(async () => {
    await pool.close();
  });
  const records = [
    [record("a b a", 1), record("c\nb é", 2), record("é é", 3)],
    [],
    [record("x y x\nx", 4)],
  ];

  it("reads a columnar count's own columns on the driver, with the lambda count's pairs", async () => {
    jobs.seenBuffers.count.length = 0;
    jobs.seenBuffers.mapped.length = 0;
    const columns = await runBatches({ inputs: [records] }, jobs.countedColumns);
    const lambda = await runBatches({ inputs: [linesOf(records)] }, jobs.lambdaColumns);
    expect(columns.map((batch) => [...batch].sort())).toEqual(
      lambda.map((batch) => [...batch].sort()),
    );
    expect(sorted([columns[0] ?? []])).toEqual([
      ["a", 2],
      ["b", 2],
      ["c", 1],
      ["é", 3],
    ]);
    expect(columns[1]).toEqual([]);
    // Handed over as they are: the same key buffers the count made, not decoded and encoded.
    const { count, mapped } = jobs.seenBuffers;
    expect(mapped.length).toBeGreaterThan(0);
    expect(mapped.length).toBe(count.length);
    for (const [i, buffer] of mapped.entries()) expect(buffer).toBe(count[i]);
  });

  it("runs on the executors as one task per count partition, with the driver's results", async () => {
    const local = await runBatches({ inputs: [records] }, jobs.countedColumns);
    const before = pool.completedTasks;
    const executors = await runBatches(
      { inputs: [records], master: "local[2]", executorPool: pool },
      jobs.countedColumns,
    );
    expect(executors).toEqual(local);
    // Two count partitions per batch, each one task: the count itself stays on the driver.
    expect(pool.completedTasks - before).toBe(2 * local.length);
    const lambda = await runBatches(
      { inputs: [linesOf(records)], master: "local[2]", executorPool: pool },
      jobs.lambdaColumns,
    );
    expect(lambda.map((batch) => [...batch].sort())).toEqual(
      local.map((batch) => [...batch].sort()),
    );
  });

  it("reads a parser's rows as text, and encodes strings as TextEncoder does", async () => {
    for (const master of ["local[1]", "local[2]"]) {
      const lengths = await runBatches(
        { inputs: [records], numPartitions: 1, master, executorPool: pool },
        jobs.wordLengths,
      );
      // "é" is two bytes.
      expect(lengths[0]).toEqual(["0:1", "0:1", "0:1", "0:1", "0:1", "0:2", "0:2", "0:2"]);
      expect(lengths[1]).toEqual([]);
      const strings = await runBatches(
        { inputs: [[["é", "", "ab\u{1F600}"]]], numPartitions: 1, master, executorPool: pool },
        jobs.stringLengths,
      );
      expect(strings).toEqual([["3 rows, 8 bytes, éab\u{1F600}"]]);
    }
  });

  it("reads numbers as one column per partition", async () => {
    const sums = await runBatches(
      { inputs: [[[1, 2, 3, 4.5]]], numPartitions: 2 },
      jobs.numberSums,
    );
    expect(sums).toEqual([
      [
        [0, 3],
        [1, 7.5],
      ],
    ]);
  });

  it("names the operation, the partition and the row of a record of the wrong type", async () => {
    for (const master of ["local[1]", "local[2]"]) {
      await expect(
        runBatches(
          { inputs: [[["abc", "de"]]], numPartitions: 1, master, executorPool: pool },
          jobs.badPairs,
        ),
      ).rejects.toMatchObject({
        code: "SLUICE_INVALID_RECORD",
        message: expect.stringMatching(
          /mapPairColumns: record 1 of partition 0 is a \[string, string\] array, not a \[string, number\] pair/,
        ),
      });
    }
  });
});

describe("a partition's column views", () => {
  it("end the bytes where the last row ends, whatever the buffer holds after it", () => {
    const keys = { keys: new TextEncoder().encode("abcdXYZ"), offsets: Uint32Array.of(0, 1, 4) };
    const view = columnsView({ kind: "pairs", keys, values: 2 }, "pairs");
    expect(view?.rows).toBe(2);
    expect(new TextDecoder().decode(view?.keys.bytes)).toBe("abcd");
    expect(view?.keys.bytes.buffer).toBe(keys.keys.buffer);
    expect(Array.from(view?.values ?? [])).toEqual([2, 2]);
    expect(columnsView({ kind: "pairs", keys, values: 2 }, "text")).toBeUndefined();
  });
});
