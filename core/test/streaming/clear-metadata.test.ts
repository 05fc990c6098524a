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
