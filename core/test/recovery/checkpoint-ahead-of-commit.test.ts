// A source paired with its sink resumes from its own last commit, and that commit comes after the
// checkpoint: a run killed between the two leaves a checkpoint that used records the commit does
// not cover. Restored, that checkpoint's state would hold records the source reads again (Kafka,
// which ignores seek: counted twice) or skip outputs that were never committed (a source that
// seeks). Recovery must restore the newest checkpoint the source's commit covers and run the
// batches after it again.
import { batchRecords, type StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";
import { MemoryTransactionalPair } from "./memory-transactional-pair.js";

const folder = folderPerTest("sluice-checkpoint-ahead-");
const decoder = new TextDecoder();

/** Lets the acknowledgements and commits Sluice starts asynchronously reach the pair. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** Running totals per value (updateStateByKey), written to the pair's sink as `value=total`. */
function runningTotals(pair: MemoryTransactionalPair) {
  return (ctx: StreamingContext) => {
    ctx
      .source(pair.plugin(), {}, { id: "paired" })
      .map((record): [string, number] => [decoder.decode(record.value), 1])
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.reduce((a, b) => a + b, total ?? 0),
      )
      .name("totals")
      .foreachBatch((batch, time) =>
        pair.write(
          time,
          batchRecords(batch).map(([value, total]) => `${value}=${total}`),
        ),
      );
  };
}

/** Reads `values` into the batch at `time` and runs it. */
async function batchOf(
  ctx: StreamingContext,
  pair: MemoryTransactionalPair,
  clock: ManualClock,
  time: number,
  ...values: string[]
): Promise<void> {
  pair.append(...values);
  await pair.poll();
  clock.advance(time - clock.now());
  await processed(ctx, time);
  await settled();
}

describe("a checkpoint ahead of its paired source's commit", () => {
  it("is skipped: the checkpoint before it is restored and the batch runs again, counted once", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const fs = new FaultInjectingFileSystem();
    // Killed right after the checkpoint at 2000 is renamed into place: before its commit.
    fs.crashAfter({ step: "rename", path: "checkpoint-0000000000002000" });
    const first = await startJob(folder.path, clock, runningTotals(pair), { fileSystem: fs });
    await batchOf(first, pair, clock, 1000, "a");
    expect(pair.committedOffset).toBe(1);
    pair.append("a");
    await pair.poll();
    clock.advance(1000);
    await fs.whenCrashed();
    // Its file system answers nothing any more, like a killed process: it never finishes stopping.
    void first.stop().catch(() => undefined);
    pair.crash();
    expect(pair.committedOffset).toBe(1);

    const clock2 = new ManualClock(2000);
    const second = await startJob(folder.path, clock2, runningTotals(pair));
    folder.running.push(second);
    expect(second.recoveryReport).toMatchObject({
      checkpointTime: 1000,
      replayedBatches: [2000],
      skippedCheckpoints: [
        {
          name: expect.stringMatching(/checkpoint-0000000000002000\.ckpt$/),
          reason: expect.stringContaining("source paired: p0 at 2, committed 1"),
        },
      ],
    });
    // The replay of 2000 waits for the source to read its record again.
    await pair.poll();
    await processed(second, 2000);
    await batchOf(second, pair, clock2, 3000, "b");
    expect(pair.committed).toEqual([
      { time: 1000, values: ["a=1"] },
      { time: 2000, values: ["a=2"] },
      { time: 3000, values: ["a=2", "b=1"] },
    ]);
  });

  it("is refused with what to do when every kept checkpoint is ahead (the commits were reset)", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const first = await startJob(folder.path, clock, runningTotals(pair), { keep: 2 });
    for (const time of [1000, 2000, 3000]) await batchOf(first, pair, clock, time, "a");
    await first.stop();
    pair.committedOffset = 0;

    await expect(
      startJob(folder.path, new ManualClock(3000), runningTotals(pair)),
    ).rejects.toMatchObject({
      code: "SLUICE_CHECKPOINT_INCOMPATIBLE",
      message: expect.stringMatching(
        /every checkpoint kept holds records its sources never committed.*checkpoint-0000000000003000.*checkpoint-0000000000002000.*groupId changed\?/,
      ),
    });
  });
});
