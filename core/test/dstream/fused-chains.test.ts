import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { type Batch, batchRecords, type DStream, StreamingContext } from "sluice";
import { ExecutorPool } from "sluice/advanced";
import { cachedBatchTimes, ManualClock, runBatches } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ColumnarBatch } from "../../src/dstream/columnar-batch.js";
import { applyChain } from "../../src/dstream/fused-chain.js";
import { FusedPairColumns } from "../../src/dstream/fused-pair-columns.js";
import * as jobs from "./jobs/fused-chains.js";

type Pair = [number, number];
type Op = "map" | "flatMap" | "filter" | "mapValues" | "flatMapValues";

// Each operation as a function of a record, shared by the fused chain and the reference.
const mapPair = ([k, v]: Pair): Pair => [v % 5, k + v];
const flatMapPair = ([k, v]: Pair): Pair[] =>
  Array.from({ length: Math.abs(v) % 3 }, (_, i): Pair => [k, v + i]);
const keepPair = ([k, v]: Pair): boolean => (k + v) % 3 !== 0;
const mapValue = (v: number): number => v * 2 - 1;
// A generator, not an array: the fused loop iterates it as it would any iterable.
function* flatMapValue(v: number): Generator<number> {
  for (let i = 0; i < Math.abs(v) % 3; i++) yield v - i;
}

function chained(stream: DStream<Pair>, op: Op): DStream<Pair> {
  switch (op) {
    case "map":
      return stream.map(mapPair);
    case "flatMap":
      return stream.flatMap(flatMapPair);
    case "filter":
      return stream.filter(keepPair);
    case "mapValues":
      return stream.mapValues(mapValue);
    case "flatMapValues":
      return stream.flatMapValues(flatMapValue);
  }
}

/** The reference: every operation over a whole partition, one array after the other. */
function stepByStep(records: ReadonlyArray<Pair>, ops: readonly Op[]): Pair[] {
  let current = [...records];
  for (const op of ops) {
    switch (op) {
      case "map":
        current = current.map(mapPair);
        break;
      case "flatMap":
        current = current.flatMap(flatMapPair);
        break;
      case "filter":
        current = current.filter(keepPair);
        break;
      case "mapValues":
        current = current.map(([k, v]): Pair => [k, mapValue(v)]);
        break;
      case "flatMapValues":
        current = current.flatMap(([k, v]) => [...flatMapValue(v)].map((u): Pair => [k, u]));
        break;
    }
  }
  return current;
}

const OPS: readonly Op[] = ["map", "flatMap", "filter", "mapValues", "flatMapValues"];

describe("fused per-record chains", () => {
  it("give the batches of the same operations applied one after the other", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 6 }),
        fc.array(fc.array(fc.integer({ min: -20, max: 20 }), { maxLength: 12 }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.constantFrom("none", "sum", "function", "groupByKey"),
        async (ops, batches, reduction) => {
          const inputs: [number[][]] = [batches];
          // A reduction with a function fuses the chain into its map side's combiners too.
          const reduce = (stream: DStream<Pair>): DStream<unknown> =>
            reduction === "sum"
              ? stream.reduceByKey("sum")
              : reduction === "function"
                ? stream.reduceByKey((a, b) => a * 31 + b)
                : reduction === "groupByKey"
                  ? stream.groupByKey()
                  : stream;
          const fused = await runBatches({ inputs }, (numbers: DStream<number>) => {
            let stream = numbers.map((n): Pair => [n % 4, n]);
            for (const op of ops) stream = chained(stream, op);
            return reduce(stream);
          });
          const reference = await runBatches({ inputs }, (numbers: DStream<number>) => {
            const stream = numbers.transform((batch: Batch<number>) => ({
              partitions: batch.partitions.map((partition) =>
                stepByStep(
                  partition.map((n): Pair => [n % 4, n]),
                  ops,
                ),
              ),
            }));
            return reduce(stream);
          });
          expect(fused).toEqual(reference);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("run through intermediate streams without giving them a batch of their own", async () => {
    let upper: DStream<string> | undefined;
    let pairs: DStream<[string, number]> | undefined;
    const output = await runBatches({ inputs: [[["a b", "c a"], ["b"]]] }, (lines) => {
      upper = lines.map((line: string) => line.toUpperCase());
      pairs = upper.flatMap((line) => line.split(" ")).map((w): [string, number] => [w, 1]);
      return pairs.reduceByKey("sum", 1);
    });
    expect(output).toEqual([
      [
        ["A", 2],
        ["B", 1],
        ["C", 1],
      ],
      [["B", 1]],
    ]);
    expect(cachedBatchTimes(upper as DStream<unknown>)).toEqual([]);
    expect(cachedBatchTimes(pairs as DStream<unknown>)).toEqual([2000]);
  });

  it("leave an intermediate stream its own batch when something else reads it", async () => {
    const shapes: Record<string, (upper: DStream<string>) => void> = {
      "an output": (upper) => upper.foreachBatch(() => undefined),
      "a second child": (upper) => upper.filter((line) => line !== "").count(),
      "a window": (upper) => upper.window(2000).count(),
      "cache()": (upper) => void upper.cache(),
      "persist()": (upper) => void upper.persist(),
    };
    for (const [shape, addReader] of Object.entries(shapes)) {
      let upper: DStream<string> | undefined;
      const output = await runBatches({ inputs: [[["a b", "c a"], ["b"]]] }, (lines) => {
        upper = lines.map((line: string) => line.toUpperCase());
        addReader(upper);
        return upper.flatMap((line) => line.split(" ")).countByValue(1);
      });
      expect(output, shape).toEqual([
        [
          ["A", 2],
          ["B", 1],
          ["C", 1],
        ],
        [["B", 1]],
      ]);
      expect(cachedBatchTimes(upper as DStream<unknown>), shape).toContain(2000);
    }
  });

  it("report a failing function in the middle under its operation's name", async () => {
    const run = runBatches({ inputs: [[[1, 7, 2]]] }, (numbers: DStream<number>) =>
      numbers
        .map((n): Pair => [n % 3, n])
        .mapValues((n) => {
          if (n === 7) throw new Error("seven is refused");
          return n;
        })
        .filter(([, n]) => n >= 0),
    );
    await expect(run).rejects.toMatchObject({
      code: "SLUICE_RECORD_FAILED",
      message: expect.stringMatching(/^mapValues failed on a record .*seven is refused/),
    });
  });

  it("send a failing record in the middle to the dead letters under its operation's name", async () => {
    const folder = await mkdtemp(join(tmpdir(), "sluice-fused-dead-"));
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    try {
      ctx.deadLetters("file", { directory: folder, format: "jsonl" });
      const seen: Pair[][] = [];
      ctx
        .queueStream([[1, 7, 2]])
        .map((n): Pair => [n % 3, n])
        .mapValues((n) => {
          if (n === 7) throw new Error("seven is refused");
          return n * 10;
        })
        .filter(([, n]) => n >= 0)
        .foreachBatch((batch: Batch<Pair>) => {
          seen.push(batchRecords(batch));
        });
      const done = new Promise<void>((resolve) =>
        ctx.addListener({ onBatchCompleted: (info) => info.batchTime === 1000 && resolve() }),
      );
      await ctx.start();
      clock.advance(1000);
      await done;
      expect(seen).toEqual([
        [
          [1, 10],
          [2, 20],
        ],
      ]);
      await ctx.stop();
      const letters: { operation: string; record: string }[] = [];
      for (const name of await readdir(folder)) {
        if (name.startsWith(".")) continue;
        const text = await readFile(join(folder, name), "utf8");
        for (const line of text.split("\n").filter(Boolean)) letters.push(JSON.parse(line));
      }
      expect(letters).toMatchObject([{ operation: "mapValues", record: "7" }]);
    } finally {
      await ctx.stop().catch(() => undefined);
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe("pairs fused into a named reduction's columns", () => {
  const pairsOf = (rows: number, key: (row: number) => unknown, value: (row: number) => unknown) =>
    Array.from({ length: rows }, (_, row) => [key(row), value(row)]);

  function collect(columnsFrom: number, partitions: unknown[][]): Batch<unknown> {
    const columns = new FusedPairColumns(columnsFrom);
    for (const records of partitions) {
      const push = columns.startPartition();
      for (const pair of records) push(pair);
    }
    return columns.finish(1000);
  }

  it("become columns from the threshold on, decoding to the same pairs", () => {
    const partitions = [
      pairsOf(
        5,
        (row) => `k${row % 3}`,
        (row) => row + 0.5,
      ),
      pairsOf(
        9,
        (row) => `é${row % 4}`,
        (row) => -row,
      ),
    ];
    const batch = collect(8, partitions);
    expect(batch).toBeInstanceOf(ColumnarBatch);
    expect(batch.partitions).toEqual(partitions);
    expect(collect(15, partitions)).not.toBeInstanceOf(ColumnarBatch);
    expect(collect(15, partitions).partitions).toEqual(partitions);
  });

  it("go back to JS pairs at the first pair the columns cannot hold", () => {
    const odd: unknown[] = [[1, 1], ["a", "1"], ["\ud800", 1], { 0: "a", 1: 1 }];
    for (const pair of odd) {
      const partitions = [
        pairsOf(
          10,
          (row) => `k${row}`,
          (row) => row,
        ),
        [["z", 1], pair],
      ];
      const batch = collect(4, partitions);
      expect(batch).not.toBeInstanceOf(ColumnarBatch);
      expect(batch.partitions).toEqual(partitions);
    }
  });

  it('fail as before on a value that is not a number, after the chain ran (reduceByKey("sum"))', async () => {
    const lines = Array.from({ length: 400 }, (_, i) => `w${i % 50} x${i % 7} y z a b`);
    const run = runBatches({ inputs: [[lines]] }, (input: DStream<string>) =>
      input
        .flatMap((line) => line.split(" "))
        .map((word): [string, number] => [word, word === "x3" ? ("3" as unknown as number) : 1])
        .reduceByKey("sum"),
    );
    await expect(run).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringContaining('reduceByKey("sum"): the value of key x3 is string'),
    });
  });
});

describe("a task's chain (applyChain)", () => {
  const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
  const lines = ctx.queueStream<string>([]);
  const words = lines.flatMap((line) => line.split(" "));
  const pairs = words.map((word): [string, number] => [word, 1]);
  const grouped = pairs.glom();

  it("runs per-record operators as one loop, around whole-partition ones", () => {
    const chain = [words, pairs, grouped] as never[];
    expect(applyChain(chain, ["a b", "c"], 0, undefined)).toEqual([
      [
        ["a", 1],
        ["b", 1],
        ["c", 1],
      ],
    ]);
  });

  it("writes a named reduction's columns from the threshold on", () => {
    const chain = [words, pairs] as never[];
    expect(applyChain(chain, ["a b", "c"], 0, 3)).toMatchObject({ kind: "pairs" });
    expect(applyChain(chain, ["a b", "c"], 0, 4)).toEqual([
      ["a", 1],
      ["b", 1],
      ["c", 1],
    ]);
  });

  it("marks an error with the id of the operator that threw", () => {
    const failing = pairs.mapValues((n) => {
      if (n > 0) throw new Error("refused");
      return n;
    });
    const chain = [words, pairs, failing, failing.filter(() => true)] as never[];
    let thrown: unknown;
    try {
      applyChain(chain, ["a"], 0, undefined);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: "SLUICE_RECORD_FAILED",
      message: expect.stringMatching(/^mapValues failed on a record \(3 attempts\): refused\./),
      sluiceStreamId: failing.id,
    });
  });
});

describe("fused chains on executors", () => {
  // One pool for the whole describe: starting threads is what costs here.
  let pool: ExecutorPool | undefined;
  beforeAll(() => {
    pool = new ExecutorPool({ threads: 2 });
  });
  afterAll(async () => {
    expect(pool?.completedTasks).toBeGreaterThan(0);
    await pool?.close();
  });

  const lines = Array.from(
    { length: 1000 },
    // Two-byte and astral words and a lone surrogate cross to the executors as they are.
    (_, i) =>
      `w${i % 97} v${(i * 7) % 13} ${i % 5 === 0 ? "" : "u"} é${i % 3} x y z 🙂${i % 2} \ud800`,
  );
  const inputs: [string[][]] = [[lines, lines.slice(0, 50), []]];

  it("give the main thread's batches (local[2])", async () => {
    for (const job of [jobs.wordSums, jobs.wordCounts, jobs.wordReduce, jobs.mixedChain]) {
      const local = await runBatches({ inputs }, job);
      const executors = await runBatches(
        { inputs, master: "local[2]", executorPool: pool as ExecutorPool },
        job,
      );
      expect(executors).toEqual(local);
      expect(local[0]?.length).toBeGreaterThan(0);
    }
  });

  it("name the operator that threw in the middle of a fused chain (local[2])", async () => {
    // Also when the chain runs straight into reduceByKey's combiners in the map task.
    for (const job of [jobs.failingMiddle, jobs.failingIntoReduce]) {
      const run = runBatches(
        {
          inputs: [[[1, 7, 2]]],
          master: "local[2]",
          executorPool: pool as ExecutorPool,
          taskMaxFailures: 1,
        },
        job,
      );
      await expect(run).rejects.toThrow(
        /^MappedValuesDStream \(stream \d+\) failed .*seven is refused/,
      );
    }
  });
});
