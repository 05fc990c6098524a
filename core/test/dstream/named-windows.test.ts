import fc from "fast-check";
import { type DStream, StreamingContext } from "sluice";
import { ManualClock, runBatches, TestInputDStream } from "sluice/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { NamedReduction } from "../../src/dstream/named-reductions.js";
import { ENGINES, exact } from "./engines.js";

// reduceByKeyAndWindow(op, window, slide, n) keeps the window in the kernels' window aggregator;
// it must give what the function form gives when it reduces every window from scratch
// (Spark's reduceByKeyAndWindow without an inverse): the same keys in the same partitions, the
// same bits. Only the order of keys within a partition may differ (the aggregator's is the
// order keys entered its state), so partitions are compared as sorted lists.

type Pair = [unknown, number];

const BATCH_MS = 1000;

/** The function form, with values prepared so its rules are the named op's. */
function lambdaWindow(
  op: NamedReduction,
  pairs: DStream<Pair>,
  window: number,
  slide: number,
  numPartitions: number,
): DStream<[unknown, number]> {
  const options = { window, slide, numPartitions };
  switch (op) {
    // The named sum starts from +0, so a key with only -0 sums to +0.
    case "sum":
      return pairs.mapValues((v) => 0 + v).reduceByKeyAndWindow((a, b) => a + b, options);
    case "count":
      return pairs.mapValues(() => 1).reduceByKeyAndWindow((a, b) => a + b, options);
    case "min":
      return pairs.reduceByKeyAndWindow((a, b) => Math.min(a, b), options);
    case "max":
      return pairs.reduceByKeyAndWindow((a, b) => Math.max(a, b), options);
  }
}

/** Each output batch as partitions (via glom) of exact texts, each partition sorted. */
function partitionsOf(batches: unknown[][][]): string[][][] {
  return batches.map((partitions) => partitions.map((partition) => partition.map(exact).sort()));
}

const stringKey = fc.constantFrom("", "a", "b", "é", "日本", "🙂", "k1", "k2", "k3");
const mixedKey = fc.oneof(
  stringKey,
  fc.integer({ min: -3, max: 5 }),
  fc.constantFrom(1.5, Number.NaN, true, null, ["a", 1], 2n ** 70n, 7n, "\uD800"),
);
// Sums of small integers are exact in any order, so the aggregator's incremental sum equals a
// sum from scratch; min, max and count take any double.
const exactValue = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(Number.NaN, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
);
const anyValue = fc.oneof(fc.double(), exactValue);

const scenario = (key: fc.Arbitrary<unknown>, value: fc.Arbitrary<number>) =>
  fc.record({
    batches: fc.array(
      fc.option(fc.array(fc.tuple(key, value), { maxLength: 12 }), { freq: 8, nil: null }),
      { minLength: 1, maxLength: 7 },
    ),
    windowBatches: fc.integer({ min: 1, max: 4 }),
    slideBatches: fc.integer({ min: 1, max: 3 }),
    numPartitions: fc.constantFrom(1, 3),
  });

describe.each(ENGINES)("named windows (%s kernels)", (_name, make) => {
  const kernels = make();

  for (const op of ["sum", "count", "min", "max"] as const) {
    for (const [keys, key] of [
      ["string", stringKey],
      ["mixed", mixedKey],
    ] as const) {
      it(`reduceByKeyAndWindow("${op}") equals the function form over ${keys} keys`, async () => {
        await fc.assert(
          fc.asyncProperty(
            scenario(key, op === "sum" ? exactValue : anyValue),
            async ({ batches, windowBatches, slideBatches, numPartitions }) => {
              const window = windowBatches * BATCH_MS;
              const slide = slideBatches * BATCH_MS;
              const options = {
                inputs: [batches as ReadonlyArray<Pair[] | null>] as [ReadonlyArray<Pair[] | null>],
                numBatches: batches.length + windowBatches + slideBatches,
                numPartitions: 2,
              };
              const named = await runBatches({ ...options, kernels }, (pairs: DStream<Pair>) =>
                pairs.reduceByKeyAndWindow(op, window, slide, numPartitions).glom(),
              );
              const lambda = await runBatches(options, (pairs: DStream<Pair>) =>
                lambdaWindow(op, pairs, window, slide, numPartitions).glom(),
              );
              expect(partitionsOf(named)).toEqual(partitionsOf(lambda));
            },
          ),
          { numRuns: 15 },
        );
      });
    }
  }

  it("countByValueAndWindow gives the function form's output, order included", async () => {
    await fc.assert(
      fc.asyncProperty(scenario(stringKey, fc.constant(0)), async (s) => {
        const words = s.batches.map((batch) => (batch === null ? null : batch.map(([w]) => w)));
        const window = s.windowBatches * BATCH_MS;
        const slide = s.slideBatches * BATCH_MS;
        const options = {
          inputs: [words] as [typeof words],
          numBatches: words.length + s.windowBatches + s.slideBatches,
          numPartitions: 2,
        };
        const named = await runBatches({ ...options, kernels }, (w: DStream<unknown>) =>
          w.countByValueAndWindow(window, slide, s.numPartitions).glom(),
        );
        // What countByValueAndWindow was before it used the kernels: Spark's definition.
        const lambda = await runBatches(options, (w: DStream<unknown>) =>
          w
            .map((word): [unknown, number] => [word, 1])
            .reduceByKeyAndWindow((a, b) => a + b, {
              window,
              slide,
              inverse: (a, b) => a - b,
              filter: ([, count]) => count !== 0,
              numPartitions: s.numPartitions,
            })
            .glom(),
        );
        expect(named.map((b) => b.map((p) => p.map(exact)))).toEqual(
          lambda.map((b) => b.map((p) => p.map(exact))),
        );
      }),
      { numRuns: 25 },
    );
  });

  it("countByWindow and reduceByWindow with a named op equal their function forms", async () => {
    await fc.assert(
      fc.asyncProperty(scenario(fc.constant(0), exactValue), async (s) => {
        const numbers = s.batches.map((batch) => (batch === null ? null : batch.map(([, v]) => v)));
        const window = s.windowBatches * BATCH_MS;
        const slide = s.slideBatches * BATCH_MS;
        const options = {
          inputs: [numbers] as [typeof numbers],
          numBatches: numbers.length + s.windowBatches + s.slideBatches,
        };
        const forms: [
          (n: DStream<number>) => DStream<number>,
          (n: DStream<number>) => DStream<number>,
        ][] = [
          [
            (n) => n.countByWindow(window, slide),
            // Spark's definition, as countByWindow was before it used the kernels.
            (n) =>
              n
                .map(() => 1)
                .reduceByWindow((a, b) => a + b, { window, slide, inverse: (a, b) => a - b })
                .transform((batch) => {
                  const records = batch.partitions.flat();
                  return records.length === 0 ? [0] : records;
                }),
          ],
          [
            (n) => n.reduceByWindow("max", window, slide),
            (n) => n.reduceByWindow((a, b) => Math.max(a, b), { window, slide }),
          ],
          [
            (n) => n.reduceByWindow("sum", window, slide),
            (n) => n.map((v) => 0 + v).reduceByWindow((a, b) => a + b, { window, slide }),
          ],
        ];
        for (const [namedForm, lambdaForm] of forms) {
          const named = await runBatches({ ...options, kernels }, namedForm);
          const lambda = await runBatches(options, lambdaForm);
          expect(named.map((b) => b.map(exact))).toEqual(lambda.map((b) => b.map(exact)));
        }
      }),
      { numRuns: 15 },
    );
  });

  it("treats the key -0 as 0 and rejects a value that is not a number, naming the key", async () => {
    const counts = await runBatches(
      { inputs: [[[[-0, 1] as Pair, [0, 2] as Pair]]], kernels },
      (pairs: DStream<Pair>) => pairs.reduceByKeyAndWindow("sum", 2000),
    );
    expect(counts.map((b) => b.map(exact))).toEqual([["[0,3]"], ["[0,3]"]].slice(0, counts.length));
    await expect(
      runBatches(
        { inputs: [[[["k", "7"]] as unknown as Pair[]]], kernels },
        (pairs: DStream<Pair>) => pairs.reduceByKeyAndWindow("max", 2000),
      ),
    ).rejects.toMatchObject({ code: "SLUICE_INVALID_ARGUMENT", message: /key k is string/ });
  });
});

describe("types", () => {
  it("named windows need number values, except count", () => {
    const typesOnly = (pairs: DStream<[string, number]>, tagged: DStream<[string, boolean]>) => {
      expectTypeOf(pairs.reduceByKeyAndWindow("sum", "30s", "10s", 4)).toEqualTypeOf<
        DStream<[string, number]>
      >();
      expectTypeOf(tagged.reduceByKeyAndWindow("count", "30s")).toEqualTypeOf<
        DStream<[string, number]>
      >();
      // @ts-expect-error "max" needs number values
      tagged.reduceByKeyAndWindow("max", "30s");
      expectTypeOf(pairs.map(([, n]) => n).reduceByWindow("max", "1m")).toEqualTypeOf<
        DStream<number>
      >();
    };
    expect(typeof typesOnly).toBe("function");
  });
});

describe("named windows on a context whose zero time is not a multiple of the pane", () => {
  it("line their panes up with the batches", async () => {
    const run = async (build: (pairs: DStream<Pair>) => DStream<[unknown, number]>) => {
      // Started at 1000 ms: the zero time is 1000, the windows end at 3000, 5000, ...
      const clock = new ManualClock(1000);
      const ctx = new StreamingContext({ batchInterval: 1000, clock });
      const input = new TestInputDStream<Pair>(
        ctx,
        [
          [["a", 1]],
          [
            ["a", 2],
            ["b", 5],
          ],
          [["b", 1]],
          [["a", 4]],
          [],
          [["c", 3]],
        ],
        2,
      );
      const out: [number, string[]][] = [];
      build(input).foreachBatch((batch, time) => {
        out.push([time, batch.partitions.flat().map(exact).sort()]);
      });
      await ctx.start();
      for (let i = 0; i < 8; i++) clock.advance(1000);
      await ctx.scope.awaitProcessed(9000);
      await ctx.stop();
      return out;
    };
    const named = await run((pairs) => pairs.reduceByKeyAndWindow("sum", 4000, 2000));
    const lambda = await run((pairs) =>
      pairs.reduceByKeyAndWindow((a, b) => a + b, { window: 4000, slide: 2000 }),
    );
    expect(named).toEqual(lambda);
    expect(named.map(([time]) => time)).toEqual([3000, 5000, 7000, 9000]);
    expect(named[1]).toEqual([5000, ['["a",7]', '["b",6]']]);
  });
});

describe("named windows across engines", () => {
  // The native aggregators keep one shard per output partition (updated on threads); the
  // TypeScript twin keeps one. Each partition must hold the same records in the same order:
  // string keys, then numbers, then bigints, then other keys, each in (re)entry order.
  it("give every engine's output partition by partition, order included", async () => {
    const [reference, ...others] = ENGINES.map(([name, make]) => [name, make()] as const).reverse();
    await fc.assert(
      fc.asyncProperty(
        scenario(mixedKey, exactValue),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("sum", "count", "min", "max" as const),
        async ({ batches, windowBatches, slideBatches }, numPartitions, op) => {
          const run = (kernels: Parameters<typeof runBatches>[0]["kernels"]) =>
            runBatches(
              {
                inputs: [batches as ReadonlyArray<Pair[] | null>] as [ReadonlyArray<Pair[] | null>],
                numBatches: batches.length + windowBatches + slideBatches,
                numPartitions: 2,
                kernels,
              },
              (pairs: DStream<Pair>) =>
                pairs
                  .reduceByKeyAndWindow(
                    op,
                    windowBatches * BATCH_MS,
                    slideBatches * BATCH_MS,
                    numPartitions,
                  )
                  .glom(),
            );
          const expected = (await run(reference?.[1])).map((b) => b.map((p) => p.map(exact)));
          for (const [, kernels] of others) {
            const got = (await run(kernels)).map((b) => b.map((p) => p.map(exact)));
            expect(got).toEqual(expected);
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
