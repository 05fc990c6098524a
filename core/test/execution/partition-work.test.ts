import fc from "fast-check";
import { type DStream, JsKernels, StreamingContext } from "sluice";
import { ManualClock, TestInputDStream } from "sluice/testing";
import { describe, expect, it } from "vitest";
import type { NamedReduction } from "../../src/dstream/named-reductions.js";
import { reduceByKeyNamed } from "../../src/dstream/named-reductions.js";
import { combineByKey } from "../../src/dstream/shuffle.js";
import type { ShuffleBucket, TaskResult, TaskSpec } from "../../src/execution/messages.js";
import { decodeGroups, runTask } from "../../src/execution/partition-work.js";

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

/** Map tasks over every input partition, then reduce tasks, as `DriverExecution` runs them. */
function shuffleInTasks(
  streams: ReadonlyMap<number, DStream<unknown>>,
  shuffleId: number,
  partitions: Pair[][],
  numPartitions: number,
): unknown[][] {
  const task = (partition: number, rest: Pick<TaskSpec, "input" | "output">): TaskResult =>
    runTask(
      streams,
      { jobKey: 1, time: 1000, partition, streamId: shuffleId, chain: [], ...rest },
      kernels,
    );
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
    if (result.kind === "records") return result.records;
    throw new Error("expected records");
  });
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
            expect(actual).toEqual(expected);
            // toEqual treats -0 and +0 alike: compare the bits of every value too.
            const bits = (parts: unknown[][]) =>
              parts.map((part) => part.map((pair) => Object.is((pair as Pair)[1], -0)));
            expect(bits(actual)).toEqual(bits(expected));
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

  it("a numeric reduction of a non-number fails in the map task as it does on one thread", () => {
    const { streams, shuffleId } = graphOf((input) => input.reduceByKey("sum", 2));
    expect(() =>
      shuffleInTasks(streams, shuffleId, [[["k", "7" as unknown as number]]], 2),
    ).toThrowError(
      expect.objectContaining({ code: "SLUICE_INVALID_ARGUMENT", sluiceStreamId: shuffleId }),
    );
  });
});
