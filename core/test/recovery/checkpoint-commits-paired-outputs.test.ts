// A checkpoint may have nothing to acknowledge: no read with records in the batches it covers,
// and no read that brought nothing kept before its batch was cut (a paired Kafka source whose
// pollTimeoutMs is longer than the checkpoint interval, or a source paused meanwhile). The
// outputs those batches wrote into the paired sink's open transaction (a window's, emitted on
// batches without new records) are covered by the checkpoint all the same, so they must commit
// with it: a crash before some later acknowledgement would otherwise lose them (the restart
// resumes after the checkpoint and never outputs those batches again).
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";
import { MemoryTransactionalPair, upperCasedWindowJob } from "./memory-transactional-pair.js";

const folder = folderPerTest("sluice-checkpoint-commits-");

/** Lets the acknowledgements and commits Sluice starts asynchronously reach the pair. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The window job checkpointing every `interval` ms, with r1 read before the first batch and
 * nothing after it, run through the batch at 3000.
 */
async function r1Through3000(interval: number) {
  const pair = new MemoryTransactionalPair();
  const clock = new ManualClock(0);
  const ctx = await startJob(folder.path, clock, upperCasedWindowJob(pair), { interval });
  folder.running.push(ctx);
  pair.append("r1");
  await pair.poll();
  for (const time of [1000, 2000, 3000]) {
    clock.advance(1000);
    await processed(ctx, time);
  }
  await settled();
  return { pair, clock, ctx };
}

describe("a checkpoint with no read to acknowledge", () => {
  it("commits the outputs of the batches it covers: a crash after it loses none", async () => {
    // From the first batch on the source's read never returns (a long poll): no read that
    // brought nothing is kept for the checkpoints.
    const { pair, clock, ctx } = await r1Through3000(3000);
    // The checkpoint at 3000 acknowledged r1's read, which committed R1 of 1000 to 3000.
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000]);
    for (const time of [4000, 5000, 6000]) {
      clock.advance(1000);
      await processed(ctx, time);
    }
    await settled();
    await settled();
    // The window's outputs of 4000 to 6000 (R1 at 4000 and 5000, nothing at 6000) are covered
    // by the checkpoint at 6000: committed with it, though no read was acknowledged.
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    expect(pair.open).toEqual([]);
    expect(pair.committedOffset).toBe(1);
    pair.crash();

    // The restart resumes after the checkpoint at 6000: nothing is output again.
    const again = await startJob(folder.path, new ManualClock(6000), upperCasedWindowJob(pair), {
      interval: 3000,
    });
    folder.running.push(again);
    expect(again.recoveryReport).toMatchObject({ checkpointTime: 6000, replayedBatches: [] });
    await again.stop({ graceful: true });
    await settled();
    const committed = pair.committed.filter((written) => written.values.length > 0);
    expect(committed.map((written) => written.time)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(committed.every((written) => written.values.join() === "R1")).toBe(true);
  });

  it("commits at a graceful stop the outputs written since the last acknowledgement", async () => {
    const { pair, ctx } = await r1Through3000(2000);
    // The checkpoint at 2000 acknowledged r1; the window's R1 at 3000 waits in the transaction.
    expect(pair.committedTimes()).toEqual([1000, 2000]);
    expect(pair.open.map((written) => written.time)).toEqual([3000]);
    // The stop's checkpoint covers 3000 and has no read to acknowledge: it commits it anyway.
    await ctx.stop({ graceful: true });
    await settled();
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000]);
    expect(pair.open).toEqual([]);
  });
});
