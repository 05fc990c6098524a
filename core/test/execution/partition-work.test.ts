import fc from "fast-check";
import { type DStream, StreamingContext } from "sluice";
import { JsKernels, keyColumnFromStrings } from "sluice/advanced";
import { ManualClock, TestInputDStream } from "sluice/testing";
import { describe, expect, it } from "vitest";
import type { NamedReduction } from "../../src/dstream/named-reductions.js";
import { PAIRS_JS_BELOW_ROWS, reduceByKeyNamed } from "../../src/dstream/named-reductions.js";
import { PiecewiseText } from "../../src/dstream/piecewise-text.js";
import { combineByKey } from "../../src/dstream/shuffle.js";
import type { ShuffleBucket, TaskResult, TaskSpec } from "../../src/execution/messages.js";
import { decodeGroups, runTask } from "../../src/execution/partition-work.js";
import { shippable } from "../../src/execution/shipped-columns.js";
import { pairsOfShipped } from "../../src/execution/shipped-pairs.js";
import { type ShippedStrings, shippedStrings } from "../../src/execution/shipped-strings.js";
import { decodeBucket } from "../../src/execution/shuffle-buckets.js";
import { ENGINES } from "../dstream/engines.js";

// A shuffle split into map and reduce tasks (as executors run it) must give what the one-thread
// computation gives, bit for bit and in the same order.

type Pair = [unknown, number];

const kernels = new JsKernels();

function graphOf(build: (input: DStream<Pair>) => DStream<unknown>): {
  streams: ReadonlyMap<number, DStream<unknown>>;
  shuffleId: number;
} {
  const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
  const input = new TestInputDStream<Pair>(ctx, [], 1);
  const shuffle = build(input);
  return { streams: ctx.scope.streams, shuffleId: shuffle.id };
}

/**
 * Map tasks over every input partition, then reduce tasks, as `DriverExecution` runs them;
 * `seen` gets every task's result.
 */
function shuffleInTasks(
  streams: ReadonlyMap<number, DStream<unknown>>,
  shuffleId: number,
  partitions: Pair[][],
  numPartitions: number,
  seen: (result: TaskResult) => void = () => {},
): unknown[][] {
  const task = (partition: number, rest: Pick<TaskSpec, "input" | "output">): TaskResult => {
    const result = runTask(
      streams,
      { jobKey: 1, time: 1000, partition, streamId: shuffleId, chain: [], ...rest },
      kernels,
    );
    seen(result);
    return result;
  };
  const mapOutputs = partitions.map((records, partition) => {
    const result = task(partition, {
      input: { kind: "records", records },
      output: { kind: "shuffle-write", shuffleId, side: 0 },
    });
    if (result.kind !== "buckets") throw new Error("expected buckets");
    return result.buckets;
  });
  return Array.from({ length: numPartitions }, (_, partition) => {
    const result = task(partition, {
      input: {
        kind: "shuffle-read",
        shuffleId,
        buckets: [mapOutputs.map((buckets) => buckets[partition] as ShuffleBucket)],
      },
      output: { kind: "records" },
    });
    if (result.kind === "utf8-groups") return decodeGroups(result);
    if (result.kind === "string-pairs") return pairsOfShipped(result.pairs);
    if (result.kind === "records") return result.records;
    throw new Error("expected records");
  });
}

/** The same rows in the same order; toEqual treats -0 and +0 alike, so the signs of zeros too. */
function expectSameRows(actual: unknown[][], expected: unknown[][]): void {
  expect(actual).toEqual(expected);
  const bits = (parts: unknown[][]) =>
    parts.map((part) => part.map((pair) => Object.is((pair as Pair)[1], -0)));
  expect(bits(actual)).toEqual(bits(expected));
}

const key = fc.oneof(
  fc.constantFrom("a", "b", "é", "日本", "", "\uD800", "\uDC00"),
  fc.integer({ min: -3, max: 3 }),
);
const value = fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0.1, 0.2, 1e16, -1e16, -0, 0));
const stringKey = fc.constantFrom("a", "b", "é", "日本", "", "k1", "k2");
const batchOf = (keys: fc.Arbitrary<unknown>) =>
  fc.array(fc.array(fc.tuple(keys, value) as fc.Arbitrary<Pair>, { maxLength: 12 }), {
    minLength: 1,
    maxLength: 4,
  });

describe("a shuffle in map and reduce tasks", () => {
  for (const op of ["sum", "count", "min", "max"] as NamedReduction[]) {
    it(`reduceByKey("${op}") equals the one-thread result, order and bits included`, () => {
      const { streams, shuffleId } = graphOf((input) => input.reduceByKey(op, 3));
      for (const keys of [stringKey, key]) {
        fc.assert(
          fc.property(batchOf(keys), (partitions) => {
            const expected = reduceByKeyNamed({ time: 1000, partitions }, op, 3);
            const actual = shuffleInTasks(streams, shuffleId, partitions, 3);
            expectSameRows(actual, expected);
          }),
          { numRuns: 60 },
        );
      }
    });
  }

  it("combineByKey with and without map-side combining equals the one-thread result", () => {
    for (const mapSideCombine of [true, false]) {
      const aggregator = {
        createCombiner: (v: number) => `${v}`,
        mergeValue: (c: string, v: number) => `${c}+${v}`,
        mergeCombiners: (a: string, b: string) => `${a}|${b}`,
      };
      const { streams, shuffleId } = graphOf((input) =>
        input.combineByKey(
          aggregator.createCombiner,
          aggregator.mergeValue,
          aggregator.mergeCombiners,
          2,
          mapSideCombine,
        ),
      );
      fc.assert(
        fc.property(batchOf(key), (partitions) => {
          const expected = combineByKey({ time: 1000, partitions }, aggregator, 2, mapSideCombine);
          expect(shuffleInTasks(streams, shuffleId, partitions, 2)).toEqual(expected);
        }),
        { numRuns: 60 },
      );
    }
  });

  it("reduceByKey with a function moves string-number rows as text pairs, merged as rows would be", () => {
    const add = (a: number, b: number) => a + b;
    const { streams, shuffleId } = graphOf((input) => input.reduceByKey(add, 3));
    const aggregator = { createCombiner: (v: number) => v, mergeValue: add, mergeCombiners: add };
    fc.assert(
      fc.property(batchOf(stringKey), (partitions) => {
        const expected = combineByKey({ time: 1000, partitions }, aggregator, 3, true);
        const kinds = new Set<string>();
        const actual = shuffleInTasks(streams, shuffleId, partitions, 3, (result) => {
          kinds.add(result.kind === "buckets" ? (result.buckets[0]?.format ?? "") : result.kind);
        });
        expect(kinds).toEqual(new Set(["string-number", "string-pairs"]));
        expectSameRows(actual, expected);
      }),
      { numRuns: 60 },
    );
  });

  it("a map task reads shipped strings and text columns into its loop as it reads records", () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    const lines = new TestInputDStream<string>(ctx, [], 1);
    const words = lines.flatMap((line) => line.split(" "));
    const pairs = words.map((word): [string, number] => [word, 1]);
    const counts = pairs.reduceByKey((a, b) => a + b, 2);
    const lineArb = fc.array(fc.constantFrom("a", "b", "é", "日本", "", "🙂"), { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(
          lineArb.map((words) => words.join(" ")),
          { minLength: 64, maxLength: 90 },
        ),
        (records) => {
          const rowsOf = (input: TaskSpec["input"]) => {
            const result = runTask(
              ctx.scope.streams,
              {
                jobKey: 1,
                time: 1000,
                partition: 0,
                streamId: counts.id,
                chain: [words.id, pairs.id],
                input,
                output: { kind: "shuffle-write", shuffleId: counts.id, side: 0 },
              },
              kernels,
            );
            if (result.kind !== "buckets") throw new Error("expected buckets");
            return result.buckets.map((bucket) => {
              const block = decodeBucket(bucket);
              return block.kind === "rows" ? block.rows : [];
            });
          };
          const strings = shippedStrings(records);
          expect(strings).toBeDefined();
          const want = rowsOf({ kind: "records", records });
          expect(want.flat().length).toBeGreaterThan(0);
          expect(rowsOf({ kind: "strings", strings: strings as ShippedStrings })).toEqual(want);
          const text = shippable({ kind: "text", keys: keyColumnFromStrings(records) });
          expect(rowsOf({ kind: "columns", columns: text })).toEqual(want);
          // Lines in pieces (a source's reads) are read piece by piece, in order.
          const cut = Math.floor(records.length / 3);
          const pieces = new PiecewiseText(
            [records.slice(0, cut), records.slice(cut, 2 * cut), records.slice(2 * cut)].map(
              (part) => keyColumnFromStrings(part),
            ),
          );
          const shipped = shippable(pieces);
          expect(shipped.kind).toBe("text-pieces");
          expect(rowsOf({ kind: "columns", columns: shipped })).toEqual(want);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("a numeric reduction of a non-number fails in the map task as it does on one thread", () => {
    const { streams, shuffleId } = graphOf((input) => input.reduceByKey("sum", 2));
    expect(() =>
      shuffleInTasks(streams, shuffleId, [[["k", "7" as unknown as number]]], 2),
    ).toThrowError(
      expect.objectContaining({ code: "SLUICE_INVALID_ARGUMENT", sluiceStreamId: shuffleId }),
    );
  });
});

describe.each(ENGINES)(
  "a named reduction's shuffle past the threshold (%s kernels)",
  (_name, make) => {
    const engine = make();
    const thresholds = PAIRS_JS_BELOW_ROWS[engine.kind];
    const rows = (family: "utf8" | "number" | "bigint") =>
      Number.isFinite(thresholds[family]) ? thresholds[family] + 3 : 0;
    const keyOf = {
      utf8: (row: number): unknown => `k${row % 37}é`,
      number: (row: number): unknown => (row % 37) - 5,
      bigint: (row: number): unknown => BigInt(row % 37) - 2n ** 40n,
    };
    const valueAt = (row: number) =>
      row % 101 === 0 ? -0 : row % 307 === 0 ? Number.NaN : row * 0.1 - 40;
    const partitionOf = (family: keyof typeof keyOf, size: number, from: number): Pair[] =>
      Array.from({ length: size }, (_, i) => [keyOf[family](from + i), valueAt(from + i)]);

    function inTasks(partitions: Pair[][], op: NamedReduction, mapTasks: number | undefined) {
      const { streams, shuffleId } = graphOf((input) => input.reduceByKey(op, 3));
      const formats = new Set<string>();
      const mapOutputs = partitions.map((records, partition) => {
        const result = runTask(
          streams,
          {
            jobKey: 1,
            time: 1000,
            partition,
            streamId: shuffleId,
            chain: [],
            input: { kind: "records", records },
            output: { kind: "shuffle-write", shuffleId, side: 0, mapTasks },
          },
          engine,
        );
        if (result.kind !== "buckets") throw new Error("expected buckets");
        for (const bucket of result.buckets) formats.add(bucket.format);
        return result.buckets;
      });
      const reduced = Array.from({ length: 3 }, (_, partition) => {
        const result = runTask(
          streams,
          {
            jobKey: 1,
            time: 1000,
            partition,
            streamId: shuffleId,
            chain: [],
            input: {
              kind: "shuffle-read",
              shuffleId,
              buckets: [mapOutputs.map((buckets) => buckets[partition] as ShuffleBucket)],
            },
            output: { kind: "records" },
          },
          engine,
        );
        if (result.kind === "utf8-groups") return decodeGroups(result);
        if (result.kind === "string-pairs") return pairsOfShipped(result.pairs);
        if (result.kind === "records") return result.records;
        throw new Error("expected records");
      });
      return { reduced, formats };
    }

    const exact = (parts: unknown[][]) =>
      parts.map((part) =>
        part.map((pair) => [
          (pair as Pair)[0],
          Object.is((pair as Pair)[1], -0) ? "-0" : String((pair as Pair)[1]),
        ]),
      );

    for (const op of ["sum", "count", "min", "max"] as NamedReduction[]) {
      it(`reduceByKey("${op}") crosses as columns and equals the one-thread result`, () => {
        for (const family of ["utf8", "number", "bigint"] as const) {
          const size = rows(family);
          if (size === 0) continue;
          const partitions = [
            partitionOf(family, size, 0),
            partitionOf(family, size + 5, size),
            partitionOf(family, 10, 3 * size),
          ];
          const expected = reduceByKeyNamed({ time: 1000, partitions }, op, 3);
          for (const mapTasks of [undefined, partitions.length]) {
            const { reduced, formats } = inTasks(partitions, op, mapTasks);
            expect(formats.has(family === "utf8" ? "utf8-f64" : "i64-f64"), family).toBe(true);
            expect(exact(reduced), `${family}, ${op}`).toEqual(exact(expected));
          }
          // One map task alone reduces a sum on the map side.
          const alone = [partitions.flat()];
          const { reduced } = inTasks(alone, op, 1);
          expect(exact(reduced)).toEqual(
            exact(reduceByKeyNamed({ time: 1000, partitions: alone }, op, 3)),
          );
        }
      });
    }

    it("merges columns of different key families and rows row by row", () => {
      const size = Math.max(rows("number"), rows("bigint"));
      if (size === 0) return;
      const partitions = [
        partitionOf("number", size, 0),
        partitionOf("bigint", size, size),
        partitionOf("utf8", 20, 2 * size),
        [[1.5, 2] as Pair, [-0, 3] as Pair],
      ];
      for (const op of ["sum", "count", "min", "max"] as NamedReduction[]) {
        const expected = reduceByKeyNamed({ time: 1000, partitions }, op, 3);
        expect(exact(inTasks(partitions, op, undefined).reduced)).toEqual(exact(expected));
      }
    });
  },
);
