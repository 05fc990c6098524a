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

/** A combiner of each key's values: their sum and how many there are. */
interface Average {
  sum: number;
  n: number;
}
const average = {
  createCombiner: (v: number): Average => ({ sum: v, n: 1 }),
  mergeValue: (c: Average, v: number): Average => ({ sum: c.sum + v, n: c.n + 1 }),
  mergeCombiners: (a: Average, b: Average): Average => ({ sum: a.sum + b.sum, n: a.n + b.n }),
};

function averages(pairs: Pairs) {
  return pairs.combineByKey(average.createCombiner, average.mergeValue, average.mergeCombiners);
}
const windowed = { window: "3s", slide: "1s", inverse: (a: number, b: number) => a - b } as const;

describe("mapSideCombineOf", () => {
  it("combines for a window with an inverse and per-batch counts by one function", () => {
    const combine = mapSideCombineOf(
      cutOf((pairs) => {
        pairs.reduceByKeyAndWindow(add, windowed).print();
        pairs.reduceByKey(add).window("2s").print();
      }),
    );
    // The keyed side reduces the partial results again, as values.
    expect(combine?.partials).toBe("values");
    expect(combine?.combine([1, 1, 5])).toEqual([7]);
    expect(combine?.combine([3])).toEqual([3]);
  });

  it("reduces with the job's function, left to right", () => {
    const concat = (a: number, b: number) => Number(`${a}${b}`);
    const combine = mapSideCombineOf(
      cutOf((pairs) => pairs.reduceByKey(concat).window("2s").print()),
    );
    expect(combine?.combine([1, 2, 3])).toEqual([123]);
  });

  it.each([
    ["sum", [1.5, -0, 2], [3.5]],
    ["min", [3, -0, 0, 7], [-0]],
    ["max", [3, 0, -0, 7, Number.NaN], [Number.NaN]],
  ] as const)("combines for the named %s as the kernels reduce", (op, values, combined) => {
    const combine = mapSideCombineOf(cutOf((pairs) => pairs.reduceByKey(op).window("2s").print()));
    expect(combine?.partials).toBe("values");
    expect(combine?.combine(values)).toEqual(combined);
  });

  it("combines into one combiner for combineByKey, which the keyed side merges as combiners", () => {
    const combine = mapSideCombineOf(
      cutOf((pairs) => {
        averages(pairs).window("2s").print();
        // The same three functions again: the same combiners serve both.
        averages(pairs).window("3s").print();
      }),
    );
    expect(combine?.partials).toBe("combiners");
    expect(combine?.combine([2, 3, 7])).toEqual([{ sum: 12, n: 3 }]);
    // One value still crosses as a combiner: the keyed side merges only combiners.
    expect(combine?.combine([5])).toEqual([{ sum: 5, n: 1 }]);
  });

  it("counts each key's values for the named count, whatever they are", () => {
    for (const build of [
      (pairs: Pairs) => pairs.reduceByKey("count").window("2s").print(),
      (pairs: Pairs) =>
        pairs
          .map(([word]) => word)
          .countByValueAndWindow("3s", "1s")
          .print(),
    ]) {
      const combine = mapSideCombineOf(cutOf(build));
      expect(combine?.partials).toBe("counts");
      expect(combine?.combine([1, "x", { a: 1 }, null])).toEqual([4]);
      expect(combine?.combine(["x"])).toEqual([1]);
    }
  });

  it("lets values that are not numbers through a named reduction as they are", () => {
    const combine = mapSideCombineOf(
      cutOf((pairs) => pairs.reduceByKey("sum").window("2s").print()),
    );
    expect(combine?.combine([1, "2", 3])).toEqual([1, "2", 3]);
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
    [
      "two combineByKey by different functions",
      (pairs: Pairs) => {
        averages(pairs).window("2s").print();
        pairs
          .combineByKey(
            (v: number) => ({ sum: v, n: 1 }),
            average.mergeValue,
            average.mergeCombiners,
          )
          .window("2s")
          .print();
      },
    ],
    [
      "combineByKey without map-side combine",
      (pairs: Pairs) =>
        pairs
          .combineByKey(
            average.createCombiner,
            average.mergeValue,
            average.mergeCombiners,
            undefined,
            false,
          )
          .window("2s")
          .print(),
    ],
    ["groupByKey", (pairs: Pairs) => pairs.groupByKey().window("2s").print()],
    [
      "combineByKey beside a reduction",
      (pairs: Pairs) => {
        averages(pairs).window("2s").print();
        pairs.reduceByKeyAndWindow(add, windowed).print();
      },
    ],
    [
      "count beside a sum",
      (pairs: Pairs) => {
        pairs.reduceByKey("count").window("2s").print();
        pairs.reduceByKey("sum").window("2s").print();
      },
    ],
    [
      "a windowed count (kept in the kernels' window, from every value)",
      (pairs: Pairs) => pairs.reduceByKeyAndWindow("count", "2s").print(),
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

describe("keyedChunks with a combine for combineByKey and count", () => {
  // One process's batch in two partitions: "a" comes many times in each.
  const pairs: [string, number][] = [
    ...Array.from({ length: 40 }, (_, i): [string, number] => ["a", i]),
    ["b", 7],
    ["c", 1],
    ["c", 2],
  ];
  const batch = { time: 1000, partitions: [pairs.slice(0, 21), pairs.slice(21)] };

  /** The pairs of every chunk, chunk by chunk. */
  function chunkPairs(chunks: ReadonlyArray<Uint8Array | undefined>): unknown[][] {
    return chunks.flatMap((chunk) => (chunk === undefined ? [] : [pairsOfChunks([chunk])]));
  }

  it("sends one combiner per key of the batch for combineByKey", () => {
    const combine = mapSideCombineOf(cutOf((p) => averages(p).window("2s").print()));
    const sent = chunkPairs(keyedChunks(batch, 2, "s", combine));
    expect(new Map(sent.flat() as [string, Average][])).toEqual(
      new Map([
        ["a", { sum: (39 * 40) / 2, n: 40 }],
        ["b", { sum: 7, n: 1 }],
        ["c", { sum: 3, n: 2 }],
      ]),
    );
    for (const chunk of sent) {
      const keys = chunk.map((pair) => (pair as [string, Average])[0]);
      expect(new Set(keys).size).toBe(keys.length);
    }
  });

  it("sends each key's count of the batch for count", () => {
    const combine = mapSideCombineOf(cutOf((p) => p.reduceByKey("count").window("2s").print()));
    const sent = chunkPairs(keyedChunks(batch, 2, "s", combine));
    expect(new Map(sent.flat() as [string, number][])).toEqual(
      new Map([
        ["a", 40],
        ["b", 1],
        ["c", 2],
      ]),
    );
    expect(sent.flat()).toHaveLength(3);
  });

  it("refuses, on the keyed side, chunks a process that combines otherwise sent (another version of the job)", () => {
    const counts = mapSideCombineOf(cutOf((p) => p.reduceByKey("count").window("2s").print()));
    const combiners = mapSideCombineOf(cutOf((p) => averages(p).window("2s").print()));
    const sent = {
      counts: keyedChunks(batch, 1, "s", counts),
      combiners: keyedChunks(batch, 1, "s", combiners),
      values: keyedChunks(batch, 1, "s"),
    };
    for (const [holds, chunks] of Object.entries(sent)) {
      const chunk = chunks[0] as Uint8Array;
      for (const expected of ["values", "combiners", "counts"] as const) {
        const read = () => pairsOfChunks([chunk], expected);
        if (expected === holds) {
          expect(read()).not.toHaveLength(0);
        } else {
          expect(read, `${holds} read as ${expected}`).toThrow(
            expect.objectContaining({
              code: "SLUICE_INVALID_CONFIG",
              message: expect.stringContaining(
                `sent the keyed part ${holds} where this process's job reads ${expected}`,
              ),
            }),
          );
        }
      }
    }
  });
});
