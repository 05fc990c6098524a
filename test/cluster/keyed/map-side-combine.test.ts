// Which cluster jobs combine each key's values on the map side, and what the chunks then hold.
import { partitionOfKey, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { keyedChunks, pairsOfChunks } from "../../../core/src/job/keyed-chunks.js";
import { findKeyedCut, type KeyedCut } from "../../../core/src/job/keyed-cut.js";
import { mapSideCombineOf } from "../../../core/src/job/map-side-combine.js";

type Pairs = ReturnType<typeof pairsOf>;

function pairsOf(ctx: StreamingContext) {
  return ctx.queueStream<string>([]).map((word): [string, number] => [word, 1]);
}

/** The cut of a job whose keyed part `build` makes from the pairs (a window keeps it keyed). */
function cutOf(build: (pairs: Pairs) => void): KeyedCut {
  const ctx = new StreamingContext({ batchInterval: 1000 });
  build(pairsOf(ctx));
  const cut = findKeyedCut(ctx.scope.graph.outputs);
  if (cut === undefined) throw new Error("the job has no keyed part");
  return cut;
}

const add = (a: number, b: number) => a + b;
const windowed = { window: "3s", slide: "1s", inverse: (a: number, b: number) => a - b } as const;

describe("mapSideCombineOf", () => {
  it("combines for a window with an inverse and per-batch counts by one function", () => {
    const combine = mapSideCombineOf(
      cutOf((pairs) => {
        pairs.reduceByKeyAndWindow(add, windowed).print();
        pairs.reduceByKey(add).window("2s").print();
      }),
    );
    expect(combine?.([1, 1, 5])).toEqual([7]);
    expect(combine?.([3])).toEqual([3]);
  });

  it("reduces with the job's function, left to right", () => {
    const concat = (a: number, b: number) => Number(`${a}${b}`);
    const combine = mapSideCombineOf(
      cutOf((pairs) => pairs.reduceByKey(concat).window("2s").print()),
    );
    expect(combine?.([1, 2, 3])).toEqual([123]);
  });

  it.each([
    ["sum", [1.5, -0, 2], [3.5]],
    ["min", [3, -0, 0, 7], [-0]],
    ["max", [3, 0, -0, 7, Number.NaN], [Number.NaN]],
  ] as const)("combines for the named %s as the kernels reduce", (op, values, combined) => {
    const combine = mapSideCombineOf(cutOf((pairs) => pairs.reduceByKey(op).window("2s").print()));
    expect(combine?.(values)).toEqual(combined);
  });

  it("lets values that are not numbers through a named reduction as they are", () => {
    const combine = mapSideCombineOf(
      cutOf((pairs) => pairs.reduceByKey("sum").window("2s").print()),
    );
    expect(combine?.([1, "2", 3])).toEqual([1, "2", 3]);
  });

  it.each([
    [
      "updateStateByKey beside a reduction",
      (pairs: Pairs) => {
        pairs.reduceByKeyAndWindow(add, windowed).print();
        pairs.updateStateByKey((v: number[], s: number | undefined) => (s ?? 0) + v.length).print();
      },
    ],
    [
      "two reductions by different functions",
      (pairs: Pairs) => {
        pairs.reduceByKeyAndWindow(add, windowed).print();
        pairs
          .reduceByKey((a, b) => a + b)
          .window("2s")
          .print();
      },
    ],
    [
      "a function and a named reduction",
      (pairs: Pairs) => {
        pairs.reduceByKeyAndWindow(add, windowed).print();
        pairs.reduceByKey("sum").window("2s").print();
      },
    ],
    ["count", (pairs: Pairs) => pairs.reduceByKey("count").window("2s").print()],
    [
      "combineByKey",
      (pairs: Pairs) =>
        pairs
          .combineByKey(
            (v: number) => v,
            (c: number, v: number) => c + v,
            (a: number, b: number) => a + b,
          )
          .window("2s")
          .print(),
    ],
    ["a window of the raw pairs", (pairs: Pairs) => pairs.window("2s").count().print()],
    [
      "a union of the pairs and a reduction",
      (pairs: Pairs) => pairs.union(pairs.reduceByKey(add)).window("2s").print(),
    ],
  ])("keeps every value for %s", (_, build) => {
    expect(mapSideCombineOf(cutOf(build))).toBeUndefined();
  });
});

describe("keyedChunks with a combine", () => {
  it("sends one value per key of the batch, keys in the order they first came", () => {
    const combine = mapSideCombineOf(
      cutOf((pairs) => pairs.reduceByKeyAndWindow(add, windowed).print()),
    );
    const pairs: [string, number][] = [
      ["b", 1],
      ["a", 2],
      ["b", 3],
      ["c", 4],
      ["a", 5],
    ];
    const chunks = keyedChunks(
      { time: 1000, partitions: [pairs.slice(0, 3), pairs.slice(3)] },
      2,
      "s",
      combine,
    );
    const back = chunks.flatMap((chunk) => (chunk === undefined ? [] : pairsOfChunks([chunk])));
    expect(new Map(back as [string, number][])).toEqual(
      new Map([
        ["b", 4],
        ["a", 7],
        ["c", 4],
      ]),
    );
    for (const [partition, chunk] of chunks.entries()) {
      const keys =
        chunk === undefined
          ? []
          : (pairsOfChunks([chunk]) as [string, number][]).map(([key]) => key);
      expect(keys).toEqual(["b", "a", "c"].filter((key) => partitionOfKey(key, 2) === partition));
    }
  });
});
