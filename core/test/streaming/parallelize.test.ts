import { ParallelCollection, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batchCompleted } from "./events.js";

const contexts: StreamingContext[] = [];

afterEach(async () => {
  for (const ctx of contexts.splice(0)) await ctx.stop();
});

function newContext(): { ctx: StreamingContext; clock: ManualClock } {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 3 });
  contexts.push(ctx);
  return { ctx, clock };
}

/** Runs the batches at 1000, 2000, … up to `times` and returns each one's partitions. */
async function partitionsOf<T>(
  ctx: StreamingContext,
  clock: ManualClock,
  stream: ReturnType<StreamingContext["queueStream"]>,
  times: number,
): Promise<T[][][]> {
  const seen: T[][][] = [];
  stream.foreachBatch((batch) => {
    seen.push(batch.partitions.map((partition) => [...partition] as T[]));
  });
  await ctx.start();
  for (let time = 1000; time <= times * 1000; time += 1000) {
    const done = batchCompleted(ctx, time);
    clock.advance(1000);
    await done;
  }
  return seen;
}

describe("parallelize", () => {
  it("cuts records into numSlices partitions as Spark's parallelize does, the default parallelism by default", () => {
    const { ctx } = newContext();
    expect(ctx.parallelize([1, 2, 3, 4, 5], 2).partitions).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(ctx.parallelize([1, 2, 3, 4, 5, 6]).partitions).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(ctx.parallelize([1, 2, 3]).count()).toBe(3);
  });

  it("refuses records that are not an array and a numSlices that is not a whole number of at least 1", () => {
    const { ctx } = newContext();
    expect(() => ctx.parallelize("abc" as unknown as string[])).toThrowError(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringMatching(/parallelize: records must be an array; got string/),
      }),
    );
    for (const numSlices of [0, 1.5, Number.NaN]) {
      expect(() => ctx.parallelize([1], numSlices)).toThrowError(
        expect.objectContaining({
          code: "SLUICE_INVALID_ARGUMENT",
          message: expect.stringMatching(/numSlices must be an integer of at least 1/),
        }),
      );
    }
  });

  it("is persisted between persist() and unpersist(), which may be called again", () => {
    const { ctx } = newContext();
    const collection = ctx.parallelize([1, 2]);
    expect(collection).toBeInstanceOf(ParallelCollection);
    expect(collection.isPersisted).toBe(false);
    expect(collection.persist().persist().isPersisted).toBe(true);
    expect(ctx.parallelize([3]).cache().isPersisted).toBe(true);
    expect(collection.unpersist().unpersist().isPersisted).toBe(false);
  });
});

describe("queueStream of collections", () => {
  it("gives a batch per collection with the collection's own partitions, persisted or not", async () => {
    const { ctx, clock } = newContext();
    const kept = ctx.parallelize(["a", "b", "c", "d"], 2).persist();
    const plain = ctx.parallelize(["e"], 1);
    const stream = ctx.queueStream<string>([kept, plain, kept]);
    expect(await partitionsOf<string>(ctx, clock, stream, 4)).toEqual([
      [
        ["a", "b"],
        ["c", "d"],
      ],
      [["e"]],
      [
        ["a", "b"],
        ["c", "d"],
      ],
      [],
    ]);
  });

  it("takes arrays and collections together with oneAtATime: false, arrays cut by the default parallelism", async () => {
    const { ctx, clock } = newContext();
    const stream = ctx.queueStream<number>([[1, 2, 3], ctx.parallelize([4, 5], 2).persist()], {
      oneAtATime: false,
    });
    expect(await partitionsOf<number>(ctx, clock, stream, 1)).toEqual([[[1], [2], [3], [4], [5]]]);
  });

  it("gives the same results at local[1] through per-record operators and a shuffle", async () => {
    const { ctx, clock } = newContext();
    const lines = ctx.parallelize(["a b", "b c", "c c"], 2).persist();
    const counts: [string, number][][] = [];
    ctx
      .queueStream([lines, lines])
      .flatMap((line) => line.split(" "))
      .map((word): [string, number] => [word, 1])
      .reduceByKey((a, b) => a + b)
      .foreachBatch((batch) => {
        counts.push(batch.partitions.flat().sort(([a], [b]) => (a < b ? -1 : 1)));
      });
    await ctx.start();
    for (const time of [1000, 2000]) {
      const done = batchCompleted(ctx, time);
      clock.advance(1000);
      await done;
    }
    const expected = [
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ];
    expect(counts).toEqual([expected, expected]);
  });

  it("refuses a collection another context made, saying to use this context's parallelize", () => {
    const { ctx } = newContext();
    const other = newContext().ctx.parallelize([1]);
    expect(() => ctx.queueStream([other])).toThrowError(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringMatching(
          /element 0 of the queue is a collection another context made with parallelize; make it with this context's parallelize/,
        ),
      }),
    );
  });

  it("refuses an element pushed while running that is neither an array nor a collection", async () => {
    const { ctx, clock } = newContext();
    const queue: (number[] | ParallelCollection<number>)[] = [];
    ctx.queueStream(queue).foreachBatch(() => {});
    const failed = ctx.awaitTermination().catch((error: unknown) => error);
    await ctx.start();
    queue.push(42 as unknown as number[]);
    clock.advance(1000);
    expect(await failed).toMatchObject({
      message: expect.stringMatching(
        /an array of records or a collection from ctx\.parallelize; element 0 is 42/,
      ),
    });
  });
});
