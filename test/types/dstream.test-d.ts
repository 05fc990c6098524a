import type { Batch, DStream, MapWithStateDStream, State, StreamingContext } from "sluice";
import { runBatches } from "sluice/testing";
import { describe, expectTypeOf, it } from "vitest";

declare const ctx: StreamingContext;
declare const numbers: DStream<number>;
declare const lines: DStream<string>;

describe("pair operations", () => {
  it("are not callable on streams that are not [key, value] pairs", () => {
    // @ts-expect-error numbers are not pairs
    numbers.reduceByKey((a: number, b: number) => a + b);
    // @ts-expect-error numbers are not pairs
    numbers.reduceByKey("sum");
    // @ts-expect-error strings are not pairs
    lines.groupByKey();
    // @ts-expect-error strings are not pairs
    lines.mapValues((v: unknown) => v);
    // @ts-expect-error numbers are not pairs
    numbers.join(lines.map((l) => [l, 1]));
    // @ts-expect-error numbers are not pairs
    numbers.updateStateByKey(() => 1);
    // @ts-expect-error numbers are not pairs
    numbers.reduceByKeyAndWindow((a: number, b: number) => a + b, { window: "2s" });
    // @ts-expect-error arrays of three are not pairs
    lines.map((l) => [l, 1, true] as [string, number, boolean]).groupByKey();
  });

  it("named numeric reductions need number values; count takes any", () => {
    const tagged = lines.map((l) => [l, l.length > 3]);
    expectTypeOf(tagged).toEqualTypeOf<DStream<[string, boolean]>>();
    // @ts-expect-error 'sum' needs number values
    tagged.reduceByKey("sum");
    expectTypeOf(tagged.reduceByKey("count")).toEqualTypeOf<DStream<[string, number]>>();
  });
});

describe("key and value types flow", () => {
  it("through map → reduceByKey → join", () => {
    const counts = lines.flatMap((l) => l.split(" ")).map((w) => [w, 1]);
    expectTypeOf(counts).toEqualTypeOf<DStream<[string, number]>>();
    const reduced = counts.reduceByKey((a, b) => a + b);
    expectTypeOf(reduced).toEqualTypeOf<DStream<[string, number]>>();
    expectTypeOf(counts.reduceByKey("sum")).toEqualTypeOf<DStream<[string, number]>>();
    const lengths = lines.map((l) => [l, { length: l.length }]);
    const joined = reduced.join(lengths);
    expectTypeOf(joined).toEqualTypeOf<DStream<[string, [number, { length: number }]]>>();
    expectTypeOf(reduced.leftOuterJoin(lengths)).toEqualTypeOf<
      DStream<[string, [number, { length: number } | undefined]]>
    >();
    expectTypeOf(reduced.rightOuterJoin(lengths)).toEqualTypeOf<
      DStream<[string, [number | undefined, { length: number }]]>
    >();
    expectTypeOf(reduced.fullOuterJoin(lengths)).toEqualTypeOf<
      DStream<[string, [number | undefined, { length: number } | undefined]]>
    >();
    expectTypeOf(reduced.cogroup(lengths)).toEqualTypeOf<
      DStream<[string, [number[], { length: number }[]]]>
    >();
    // @ts-expect-error the keys must have the same type
    reduced.join(numbers.map((n) => [n, n]));
  });

  it("through grouping, windows and state", () => {
    const pairs = numbers.map((n) => [`k${n}`, n]);
    expectTypeOf(pairs.groupByKey()).toEqualTypeOf<DStream<[string, number[]]>>();
    expectTypeOf(pairs.mapValues((n) => n > 0)).toEqualTypeOf<DStream<[string, boolean]>>();
    expectTypeOf(pairs.flatMapValues((n) => [String(n)])).toEqualTypeOf<
      DStream<[string, string]>
    >();
    expectTypeOf(
      pairs.combineByKey(
        (v) => [v],
        (c, v) => [...c, v],
        (a, b) => [...a, ...b],
      ),
    ).toEqualTypeOf<DStream<[string, number[]]>>();
    expectTypeOf(pairs.groupByKeyAndWindow("4s", "2s")).toEqualTypeOf<
      DStream<[string, number[]]>
    >();
    expectTypeOf(
      pairs.reduceByKeyAndWindow((a, b) => a + b, {
        window: "4s",
        inverse: (a, b) => a - b,
        filter: ([, v]) => v > 0,
      }),
    ).toEqualTypeOf<DStream<[string, number]>>();
    expectTypeOf(
      pairs.reduceByKeyAndWindow("sum", { window: "4s", slide: "2s", numPartitions: 2 }),
    ).toEqualTypeOf<DStream<[string, number]>>();
    // @ts-expect-error a named reduction undoes itself: no inverse
    pairs.reduceByKeyAndWindow("sum", { window: "4s", inverse: (a: number, b: number) => a - b });
    const totals = pairs.updateStateByKey((values, state: number | undefined, { key, time }) => {
      expectTypeOf(values).toEqualTypeOf<number[]>();
      expectTypeOf(key).toEqualTypeOf<string>();
      expectTypeOf(time).toEqualTypeOf<number>();
      return (state ?? 0) + values.length;
    });
    expectTypeOf(totals).toEqualTypeOf<DStream<[string, number]>>();
    const mapped = pairs.mapWithState({
      fn: (key, value, state: State<{ seen: number }>) => {
        expectTypeOf(key).toEqualTypeOf<string>();
        expectTypeOf(value).toEqualTypeOf<number | undefined>();
        return state.exists() ? key.length : undefined;
      },
    });
    expectTypeOf(mapped).toEqualTypeOf<
      MapWithStateDStream<string, number, { seen: number }, number>
    >();
    expectTypeOf(mapped.stateSnapshots()).toEqualTypeOf<DStream<[string, { seen: number }]>>();
    expectTypeOf(mapped).toMatchTypeOf<DStream<number>>();
  });

  it("for whole-stream operations", () => {
    expectTypeOf(numbers.count()).toEqualTypeOf<DStream<number>>();
    expectTypeOf(lines.countByValue()).toEqualTypeOf<DStream<[string, number]>>();
    expectTypeOf(lines.countByValueAndWindow("10s")).toEqualTypeOf<DStream<[string, number]>>();
    expectTypeOf(numbers.glom()).toEqualTypeOf<DStream<number[]>>();
    expectTypeOf(numbers.filter((n): n is 1 | 2 => n < 3)).toEqualTypeOf<DStream<1 | 2>>();
    expectTypeOf(
      numbers.transformWith(lines, (a: Batch<number>, b: Batch<string>) => [a.time, b.time]),
    ).toEqualTypeOf<DStream<number>>();
    expectTypeOf(ctx.union(numbers, numbers)).toEqualTypeOf<DStream<number>>();
    // @ts-expect-error a union needs streams of one type
    numbers.union(lines);
    // @ts-expect-error durations are milliseconds or strings with a unit
    numbers.window("2 seconds");
  });
});

describe("runBatches", () => {
  it("infers pairs in inputs and types each stream", async () => {
    const output = await runBatches({ inputs: [[["a", "b"]], [[["a", 1]]]] }, (words, pairs) => {
      expectTypeOf(words).toEqualTypeOf<DStream<string>>();
      expectTypeOf(pairs).toEqualTypeOf<DStream<[string, number]>>();
      return words.map((w) => [w, 1]).join(pairs);
    });
    expectTypeOf(output).toEqualTypeOf<[string, [number, number]][][]>();
  });
});

describe("queueStream", () => {
  it("takes arrays and collections from parallelize, of the same record type", () => {
    const words = ctx.parallelize(["a", "b"], 2).cache();
    expectTypeOf(ctx.queueStream([words, ["c"]])).toEqualTypeOf<DStream<string>>();
    expectTypeOf(ctx.queueStream([ctx.parallelize([1, 2]).persist()])).toEqualTypeOf<
      DStream<number>
    >();
    // @ts-expect-error a collection of numbers is not a batch of strings
    ctx.queueStream<string>([ctx.parallelize([1, 2])]);
  });
});
