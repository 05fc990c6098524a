// Kafka to Kafka exactly once under ctx.checkpoint(dir, { interval }): the paired sink keeps one
// transaction open across batches, and the checkpoint's acknowledgements commit it with the
// consumed offsets. A checkpoint written slowly must not let the next batch's outputs into that
// transaction: committed with the earlier offsets, they would be output again after a crash.
// The checkpoint is held (its final rename waits for the test) while the next batch comes due.
import { closeConnectorsOf } from "sluice";
import { FaultInjectingFileSystem, ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import {
  CheckpointHeldAt,
  checkpointedPairSuite,
  type PairedJobShape,
} from "./checkpointed-pair.js";
import { committedOffsets, until } from "./kafka-helpers.js";

const suite = checkpointedPairSuite("kafka-checkpoint-ack");

/**
 * Every value upper-cased, one batch of every two output (a window of 1 s every 2 s). The
 * batches at odd seconds run no job; with checkpoints every 3 s, the one at 3000 is such a
 * batch's.
 */
const SHAPE: PairedJobShape = {
  appName: "ckpt-ack",
  windowMs: 1000,
  slideMs: 2000,
  checkpointIntervalMs: 3000,
};

describe("kafka exactly once with checkpoints every few batches", () => {
  it("a slow checkpoint commits only the outputs of the input it acknowledges: after a crash nothing is output twice", async () => {
    const names = await suite.names("ckpt-ack");
    const fs = new CheckpointHeldAt(3000);
    const clock = new ManualClock(0);
    const { ctx, records, source } = await suite.startJob(names, SHAPE, clock, fs);
    const submitted: number[] = [];
    const started: number[] = [];
    const outputDone: number[] = [];
    ctx.addListener({
      onBatchSubmitted: (info) => submitted.push(info.batchTime),
      onBatchStarted: (info) => started.push(info.batchTime),
      onOutputOperationCompleted: (info) => outputDone.push(info.batchTime),
    });
    let produced = 0;
    // Produces `value`, waits until the source handed it to the input, then lets its batch come.
    const batchOf = async (value: string, time: number) => {
      await suite.producer.send({ topic: names.input, messages: [{ value }] });
      produced++;
      await until(
        () => source.metrics.recordsIn === produced && records.hasPendingData(),
        30_000,
        `${value} read`,
      );
      clock.advance(time - clock.now());
    };

    try {
      await batchOf("r1", 1000);
      await ctx.scope.awaitProcessed(1000);
      await batchOf("r2", 2000);
      await ctx.scope.awaitProcessed(2000);
      await batchOf("r3", 3000);
      await until(() => fs.held, 30_000, "the checkpoint at 3000 being written");
      await batchOf("r4", 4000);
      // The batch at 4000 comes while the checkpoint at 3000 is still being written. With no
      // other batch running, a scheduler that does not wait for that checkpoint starts the
      // batch as it submits it: it is then let finish (writing R4 into the open transaction)
      // before the checkpoint goes on. Otherwise the batch waits for the checkpoint.
      await until(() => submitted.includes(4000), 30_000, "the batch at 4000 submitted");
      if (started.includes(4000)) {
        await until(() => outputDone.includes(4000), 30_000, "the output at 4000");
      }
      fs.release();
      await ctx.scope.awaitProcessed(4000);
      // The acknowledgements of r1, r2 and r3 commit the transaction with their offsets.
      await until(() => source.metrics.commits >= 1, 30_000, "the transaction of 3000");
      expect(ctx.scope.firstError()).toBeUndefined();
      expect(outputDone).toEqual([2000, 4000]);
    } finally {
      fs.release();
      // The process dies: no checkpoint can be written any more (so nothing more is
      // acknowledged), and what the sink's transaction holds is never committed.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // What a restart starts from: the offsets after r3, and the outputs of r1, r2 and r3.
    expect.soft((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("3");
    expect.soft(await suite.outputValues(names.output)).toEqual(["R2"]);

    // The restart replays the batch at 4000 from the checkpoint at 3000.
    const again = await suite.startJob(
      names,
      SHAPE,
      new ManualClock(4000),
      new FaultInjectingFileSystem(),
    );
    try {
      expect(again.ctx.recoveryReport).toMatchObject({
        checkpointTime: 3000,
        replayedBatches: [4000],
      });
      await again.ctx.scope.awaitProcessed(4000);
      expect(again.ctx.scope.firstError()).toBeUndefined();
      // The stop's checkpoint acknowledges r4, which commits R4 with its offset.
      await again.ctx.stop();
      await until(() => again.source.metrics.commits >= 1, 30_000, "the transaction of r4");
    } finally {
      await again.ctx.stop();
      await closeConnectorsOf(again.ctx);
    }
    expect((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("4");
    expect(await suite.outputValues(names.output)).toEqual(["R2", "R4"]);
  }, 120_000);
});
