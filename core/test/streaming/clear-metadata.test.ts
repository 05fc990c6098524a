// After every batch the graph forgets what each stream no longer needs. A stream reached by many
// paths (below several outputs, or both sides of a union) is visited once per batch, not once
// per path: a ladder of unions, each rung over the rung before, doubles the paths every rung.
import { DStream, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { batchCompleted } from "./events.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("forgetting old batches", () => {
  it("visits every stream once per batch, however many paths lead to it", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const rungs = 12;
    let ladder: DStream<number> = ctx.queueStream([[1, 2, 3]]);
    for (let rung = 0; rung < rungs; rung++) {
      ladder = ladder.map((x) => x).union(ladder.map((x) => x + 1));
    }
    let records = 0;
    let sum = 0;
    ladder.foreachBatch((batch) => {
      for (const partition of batch.partitions) {
        for (const value of partition) {
          records++;
          sum += value;
        }
      }
    });
    const forgets = vi.spyOn(DStream.prototype, "clearMetadata");
    await ctx.start();
    try {
      const done = batchCompleted(ctx, clock.now() + 1000);
      clock.advance(1000);
      await done;
      // The input, three streams per rung (two maps and their union) and the output.
      const streams = 1 + 3 * rungs + 1;
      expect(forgets).toHaveBeenCalledTimes(streams);
      // Every path carries the batch: 2^rungs copies of each record, each rung adding 1 on
      // half of them.
      expect(records).toBe(3 * 2 ** rungs);
      expect(sum).toBe(2 ** rungs * (1 + 2 + 3) + 3 * rungs * 2 ** (rungs - 1));
    } finally {
      await ctx.stop();
    }
  });
});

describe("starting a graph", () => {
  it("initializes every stream once, however many paths lead to it", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    // 2^40 paths from the output to the input: walked path by path, the start would never end.
    const rungs = 40;
    let ladder: DStream<number> = ctx.queueStream([[1]]);
    for (let rung = 0; rung < rungs; rung++) {
      ladder = ladder.map((x) => x).union(ladder.map((x) => x + 1));
    }
    ladder
      .window("3s")
      .count()
      .foreachBatch(() => undefined);
    const initializations = vi.spyOn(DStream.prototype, "initialize");
    const remembers = vi.spyOn(DStream.prototype, "remember");
    await ctx.start();
    await ctx.stop();
    // Each stream asks its parents once: one call per edge of the graph (four per rung: two
    // maps over the rung before, a union over both) and one per output and input.
    const edges = 4 * rungs + 10;
    expect(initializations.mock.calls.length).toBeLessThanOrEqual(edges);
    // A stream asks again only for a longer duration than before.
    expect(remembers.mock.calls.length).toBeLessThanOrEqual(2 * edges);
  });

  it("keeps a window's parent for the window's width when a shorter path reaches it first", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const input = ctx.queueStream<number>([[1], [2], [3], [4]], { oneAtATime: true });
    const counted: number[][] = [];
    // The plain output comes first, so the input hears from it before the window asks for more.
    input.foreachBatch(() => undefined);
    input.window("3s").foreachBatch((batch) => {
      counted.push(batch.partitions.flat().sort());
    });
    await ctx.start();
    try {
      for (let tick = 1; tick <= 4; tick++) {
        const done = batchCompleted(ctx, clock.now() + 1000);
        clock.advance(1000);
        await done;
      }
      expect(counted).toEqual([[1], [1, 2], [1, 2, 3], [2, 3, 4]]);
    } finally {
      await ctx.stop();
    }
  });
});
