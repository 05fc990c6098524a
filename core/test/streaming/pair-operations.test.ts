import { batchRecords, canonicalKey, partitionOfKey } from "sluice";
import { JsKernels, keyColumnFromStrings } from "sluice/advanced";
import { runBatches } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { sortedBatches } from "./helpers.js";
import * as jobs from "./jobs/pairs.js";
import { MASTERS, onMaster } from "./masters.js";

// Expected values follow Spark's BasicOperationsSuite; where the order inside a batch depends on
// hash partitioning, batches are compared sorted (Spark compares them as sets).
const words = [["a", "a", "b"], ["", ""], []];
const left = [["a", "b"], ["a", ""], [""], []];
const right = [["a", "b"], ["b", ""], [], [""]];

describe.each(MASTERS)("under %s", (master) => {
  const on = onMaster(master);

  describe("per-key operations", () => {
    it("groupByKey", async () => {
      const output = await runBatches({ inputs: [words], ...on() }, jobs.groupByKey);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", [1, 1]],
          ["b", [1]],
        ],
        [["", [1, 1]]],
        [],
      ]);
    });

    it("reduceByKey with a function", async () => {
      const output = await runBatches({ inputs: [words], ...on() }, jobs.reduceByKeyFunction);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", 2],
          ["b", 1],
        ],
        [["", 2]],
        [],
      ]);
    });

    it("reduceByKey with 'sum', 'count', 'min' and 'max'", async () => {
      const input = [
        [
          ["x", 3],
          ["y", -1],
          ["x", 5],
          ["x", 1],
        ],
      ] as [string, number][][];
      const run = (op: "sum" | "count" | "min" | "max") =>
        runBatches({ inputs: [input], ...on() }, jobs.reduceByKeyNamed(op)).then(sortedBatches);
      expect(await run("sum")).toEqual([
        [
          ["x", 9],
          ["y", -1],
        ],
      ]);
      expect(await run("count")).toEqual([
        [
          ["x", 3],
          ["y", 1],
        ],
      ]);
      expect(await run("min")).toEqual([
        [
          ["x", 1],
          ["y", -1],
        ],
      ]);
      expect(await run("max")).toEqual([
        [
          ["x", 5],
          ["y", -1],
        ],
      ]);
    });

    it("'sum' adds floats in row order from +0, like the kernels", async () => {
      const values = [0.1, 0.2, 0.3, 1e16, -1e16, -0];
      const output = await runBatches(
        { inputs: [[values.map((v): [string, number] => ["k", v])]], ...on() },
        jobs.reduceByKeyNamed("sum"),
      );
      const rowOrder = values.reduce((acc, v) => acc + v, 0);
      expect(output).toEqual([[["k", rowOrder]]]);
      const negativeZero = await runBatches(
        { inputs: [[[["k", -0]]]], ...on() },
        jobs.reduceByKeyNamed("sum"),
      );
      expect(negativeZero).toEqual([[["k", 0]]]);
      expect(Object.is(negativeZero.flat()[0]?.[1], 0)).toBe(true);
    });

    it("'count' counts any values; the numeric reductions reject non-numbers", async () => {
      const counted = await runBatches(
        {
          inputs: [
            [
              [
                ["k", "v"],
                ["k", null],
              ],
            ],
          ],
          ...on(),
        },
        jobs.reduceByKeyNamed("count") as never,
      );
      expect(counted).toEqual([[["k", 2]]]);
      await expect(
        runBatches({ inputs: [[[["k", "7"]]]], ...on() }, jobs.reduceByKeyNamed("sum") as never),
      ).rejects.toMatchObject({ code: "SLUICE_INVALID_ARGUMENT", message: /key k is string/ });
    });

    it("countByValue and reduceByKey('sum') agree", async () => {
      const input = [["a", "b", "a", "c", "a"]];
      const counted = await runBatches({ inputs: [input], ...on() }, jobs.countByValue);
      const summed = await runBatches({ inputs: [input], ...on() }, jobs.wordSums);
      expect(counted).toEqual(summed);
      expect(sortedBatches(counted)).toEqual([
        [
          ["a", 3],
          ["b", 1],
          ["c", 1],
        ],
      ]);
    });

    it("combineByKey merges within partitions first, then across partitions in order", async () => {
      const output = await runBatches(
        { inputs: [[["k1", "k2", "k3", "k4"].map((v): [string, string] => ["k", v])]], ...on() },
        jobs.combineTrace,
      );
      expect(output).toEqual([[["k", "k1k2|k3k4"]]]);
    });

    it("mapValues and flatMapValues keep the keys", async () => {
      const mapped = await runBatches({ inputs: [words], ...on() }, jobs.mapValues);
      expect(sortedBatches(mapped)).toEqual([
        [
          ["a", 12],
          ["b", 11],
        ],
        [["", 12]],
        [],
      ]);
      const flat = await runBatches({ inputs: [words], ...on() }, jobs.flatMapValues);
      expect(sortedBatches(flat)).toEqual([
        [
          ["a", 2],
          ["a", 12],
          ["b", 1],
          ["b", 11],
        ],
        [
          ["", 2],
          ["", 12],
        ],
        [],
      ]);
    });

    it("a missing batch stays missing through shuffles", async () => {
      const output = await runBatches({ inputs: [[["a"], null, ["b"]]], ...on() }, jobs.wordSums);
      expect(output).toEqual([[["a", 1]], [["b", 1]]]);
    });
  });

  describe("joins and cogroup", () => {
    it("cogroup", async () => {
      const output = await runBatches(
        {
          inputs: [
            [["a", "a", "b"], ["a", ""], [""], []],
            [["a", "a", "b"], ["b", ""], [], []],
          ],
          ...on(),
        },
        jobs.cogroup,
      );
      expect(sortedBatches(output)).toEqual([
        [
          [
            "a",
            [
              [1, 1],
              ["x", "x"],
            ],
          ],
          ["b", [[1], ["x"]]],
        ],
        [
          ["", [[1], ["x"]]],
          ["a", [[1], []]],
          ["b", [[], ["x"]]],
        ],
        [["", [[1], []]]],
        [],
      ]);
    });

    it("join", async () => {
      const output = await runBatches({ inputs: [left, right], ...on() }, jobs.join);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", [1, "x"]],
          ["b", [1, "x"]],
        ],
        [["", [1, "x"]]],
        [],
        [],
      ]);
    });

    it("join emits every pair of values of a key", async () => {
      const output = await runBatches(
        { inputs: [[["k", "k"]], [["k", "k", "k"]]], ...on() },
        jobs.joinNumbers,
      );
      expect(output[0]).toHaveLength(6);
    });

    it("leftOuterJoin: undefined for a missing right side", async () => {
      const output = await runBatches({ inputs: [left, right], ...on() }, jobs.leftOuterJoin);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", [1, "x"]],
          ["b", [1, "x"]],
        ],
        [
          ["", [1, "x"]],
          ["a", [1, undefined]],
        ],
        [["", [1, undefined]]],
        [],
      ]);
    });

    it("rightOuterJoin: undefined for a missing left side", async () => {
      const output = await runBatches({ inputs: [left, right], ...on() }, jobs.rightOuterJoin);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", [1, "x"]],
          ["b", [1, "x"]],
        ],
        [
          ["", [1, "x"]],
          ["b", [undefined, "x"]],
        ],
        [],
        [["", [undefined, "x"]]],
      ]);
    });

    it("fullOuterJoin: undefined for whichever side is missing", async () => {
      const output = await runBatches({ inputs: [left, right], ...on() }, jobs.fullOuterJoin);
      expect(sortedBatches(output)).toEqual([
        [
          ["a", [1, "x"]],
          ["b", [1, "x"]],
        ],
        [
          ["", [1, "x"]],
          ["a", [1, undefined]],
          ["b", [undefined, "x"]],
        ],
        [["", [1, undefined]]],
        [["", [undefined, "x"]]],
      ]);
    });

    it("a join fails when one side has no batch, as Spark's transformWith does", async () => {
      await expect(
        runBatches(
          {
            inputs: [
              [["a"], ["b"]],
              [["a"], null],
            ],
            ...on(),
          },
          jobs.joinNumbers,
        ),
      ).rejects.toMatchObject({ code: "SLUICE_MISSING_BATCH", message: /2000 ms/ });
    });
  });

  describe("hash partitioning and key equality", () => {
    it("puts string keys where the kernels' hashPartitionUtf8 does", async () => {
      const keys = ["apple", "banana", "cherry", "", "wörld", "日本"];
      const kernels = new JsKernels();
      const expected = Array.from(kernels.hashPartitionUtf8(keyColumnFromStrings(keys), 3));
      expect(keys.map((key) => partitionOfKey(key, 3))).toEqual(expected);
      const output = await runBatches(
        { inputs: [[keys.map((k): [string, number] => [k, 1])]], numPartitions: 3, ...on() },
        jobs.wordSumsGlom,
      );
      const placed = (output[0] as [string, number][][]).map((partition) =>
        partition.map(([k]) => k),
      );
      placed.forEach((partition, index) => {
        for (const key of partition) expect(expected[keys.indexOf(key)]).toBe(index);
      });
    });

    it("puts integer keys where the kernels' hashPartitionI64 does", () => {
      const kernels = new JsKernels();
      const expected = Array.from(
        kernels.hashPartitionI64(BigInt64Array.of(0n, -1n, 42n, 2n ** 40n), 5),
      );
      expect([0, -1, 42, 2 ** 40].map((key) => partitionOfKey(key, 5))).toEqual(expected);
      expect([0n, -1n, 42n, 2n ** 40n].map((key) => partitionOfKey(key, 5))).toEqual(expected);
      expect(partitionOfKey(-0, 5)).toBe(partitionOfKey(0, 5));
    });

    it("keeps first-seen key order within a partition", async () => {
      const output = await runBatches(
        { inputs: [[["c", "a", "b", "a", "c", "d"]]], numPartitions: 1, ...on() },
        jobs.wordSums,
      );
      expect(output).toEqual([
        [
          ["c", 2],
          ["a", 2],
          ["b", 1],
          ["d", 1],
        ],
      ]);
    });

    it("compares primitive keys by value and type, array/object keys by structure", async () => {
      const input = [
        [
          [1, "n"],
          [1n, "big"],
          ["1", "s"],
          [true, "t"],
          [["x", 1], "arr"],
          [["x", 1], "arr again"],
          [{ b: 2, a: 1 }, "obj"],
          [{ a: 1, b: 2 }, "obj again"],
          [1, "n again"],
        ],
      ] as [unknown, string][][];
      const output = await runBatches(
        { inputs: [input], numPartitions: 1, ...on() },
        jobs.groupAnyKeys,
      );
      expect(output[0]).toEqual([
        [1, ["n", "n again"]],
        [1n, ["big"]],
        ["1", ["s"]],
        [true, ["t"]],
        [
          ["x", 1],
          ["arr", "arr again"],
        ],
        [{ b: 2, a: 1 }, ["obj", "obj again"]],
      ]);
      expect(canonicalKey({ b: 2, a: [1, "x"] })).toBe('{"a":[1,"x"],"b":2}');
    });

    it("gives the same output for the same input, run after run", async () => {
      const input = [Array.from({ length: 50 }, (_, i) => `k${i % 17}`)];
      const run = () =>
        runBatches({ inputs: [input], numPartitions: 4, ...on() }, jobs.countByValueIn(4));
      const first = await run();
      expect(await run()).toEqual(first);
      expect(batchRecords({ time: 0, partitions: [[1], [2]] })).toEqual([1, 2]);
    });
  });
});

describe("combineByKey's functions (on the main thread, to watch them)", () => {
  it("are called within partitions first, then across partitions in order", async () => {
    const calls: string[] = [];
    const output = await runBatches(
      { inputs: [[["k1", "k2", "k3", "k4"].map((v) => ["k", v])]], numPartitions: 2 },
      (s) =>
        s.combineByKey(
          (v) => {
            calls.push(`create ${v}`);
            return v;
          },
          (c, v) => {
            calls.push(`merge ${c}+${v}`);
            return `${c}${v}`;
          },
          (a, b) => {
            calls.push(`combine ${a}|${b}`);
            return `${a}|${b}`;
          },
          1,
        ),
    );
    expect(output).toEqual([[["k", "k1k2|k3k4"]]]);
    expect(calls).toEqual([
      "create k1",
      "merge k1+k2",
      "create k3",
      "merge k3+k4",
      "combine k1k2|k3k4",
    ]);
  });
});
