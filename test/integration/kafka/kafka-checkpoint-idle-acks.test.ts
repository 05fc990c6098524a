// Kafka to Kafka exactly once under ctx.checkpoint(dir, { interval }), through reads that brought
// no records. A window keeps outputting a record in the batches after the one that read it; those
// outputs wait in the paired sink's open transaction. A read that brings nothing must not commit
// that transaction before a checkpoint covers the batches whose outputs it holds: a crash would
// then replay those batches from the previous checkpoint and output them a second time.
import { closeConnectorsOf } from "sluice";
import { FaultInjectingFileSystem, ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { linkedSource } from "../../../connectors/kafka/src/transaction-link.js";
import {
  CheckpointHeldAt,
  checkpointedPairSuite,
  type PairedJob,
  type PairedJobShape,
} from "./checkpointed-pair.js";
import { committedOffsets, until } from "./kafka-helpers.js";

const suite = checkpointedPairSuite("kafka-idle-acks");

/**
 * Every value upper-cased, in a window of 5 s sliding by 1 s (a record read at 1000 is output at
 * 1000 to 5000); checkpoints every 3 s.
 */
const SHAPE: PairedJobShape = {
  appName: "idle-acks",
  windowMs: 5000,
  slideMs: 1000,
  checkpointIntervalMs: 3000,
};

/**
 * Resolves once the source answered two more reads, so at least one read that began after this
 * call was handed to the input (and, were it acknowledged at once, its commit began), then once
 * the commit those acknowledgements began, if any, is done.
 */
async function afterIdleReads(job: PairedJob, transactionalId: string): Promise<void> {
  const from = job.reads();
  await until(() => job.reads() >= from + 2, 30_000, "two more reads");
  await linkedSource(transactionalId)?.pendingCommit?.catch(() => undefined);
}

/**
 * After a crash past the checkpoint at 6000: r1's offset and the five outputs of 1000 to 5000 are
 * committed, and a restart resumes from that checkpoint with nothing to replay.
 */
async function expectCommittedThrough6000(
  names: Awaited<ReturnType<typeof suite.names>>,
  shape: PairedJobShape,
): Promise<void> {
  expect((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("1");
  expect(await suite.outputValues(names.output)).toEqual(["R1", "R1", "R1", "R1", "R1"]);
  const again = await suite.startJob(
    names,
    shape,
    new ManualClock(6000),
    new FaultInjectingFileSystem(),
  );
  try {
    expect(again.ctx.recoveryReport).toMatchObject({ checkpointTime: 6000, replayedBatches: [] });
  } finally {
    await again.ctx.stop();
    await closeConnectorsOf(again.ctx);
  }
}

describe("kafka exactly once with checkpoints, through reads that brought no records", () => {
  it("a window's outputs of batches without input commit only with the checkpoint covering them: after a crash nothing is output twice", async () => {
    const names = await suite.names("idle-acks");
    const fs = new FaultInjectingFileSystem();
    const clock = new ManualClock(0);
    const job = await suite.startJob(names, SHAPE, clock, fs);
    const { ctx, records, source } = job;
    try {
      await suite.producer.send({ topic: names.input, messages: [{ value: "r1" }] });
      await until(
        () => source.metrics.recordsIn === 1 && records.hasPendingData(),
        30_000,
        "r1 read",
      );
      for (const time of [1000, 2000, 3000]) {
        clock.advance(1000);
        await ctx.scope.awaitProcessed(time);
      }
      // The checkpoint at 3000 acknowledged r1: R1 of 1000, 2000 and 3000 committed with it.
      await afterIdleReads(job, names.transactionalId);
      clock.advance(1000);
      await ctx.scope.awaitProcessed(4000);
      // R1 of 4000 waits in the open transaction; the next checkpoint is due at 6000. Reads
      // that bring nothing go on meanwhile.
      await afterIdleReads(job, names.transactionalId);
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      // The process dies: no checkpoint can be written any more (so nothing more is
      // acknowledged), and what the sink's transaction holds is never committed.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // What a restart starts from: the checkpoint at 3000, with the outputs it covers.
    expect.soft((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("1");
    expect.soft(await suite.outputValues(names.output)).toEqual(["R1", "R1", "R1"]);

    // The restart replays the batch at 4000 from the checkpoint at 3000, then runs 5000.
    const clockAgain = new ManualClock(4000);
    const again = await suite.startJob(names, SHAPE, clockAgain, new FaultInjectingFileSystem());
    try {
      expect(again.ctx.recoveryReport).toMatchObject({
        checkpointTime: 3000,
        replayedBatches: [4000],
      });
      await again.ctx.scope.awaitProcessed(4000);
      clockAgain.advance(1000);
      await again.ctx.scope.awaitProcessed(5000);
      await afterIdleReads(again, names.transactionalId);
      expect(again.ctx.scope.firstError()).toBeUndefined();
      // The stop's checkpoint covers 4000 and 5000; its acknowledgements commit their outputs.
      await again.ctx.stop();
      await linkedSource(names.transactionalId)?.pendingCommit;
      expect(again.ctx.scope.firstError()).toBeUndefined();
    } finally {
      await again.ctx.stop();
      await closeConnectorsOf(again.ctx);
    }
    expect((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("1");
    // R1 once for each window holding r1: 1000 to 5000.
    expect(await suite.outputValues(names.output)).toEqual(["R1", "R1", "R1", "R1", "R1"]);
  }, 120_000);

  it("a checkpoint after batches without input commits their outputs though records read after its batch wait: a crash loses none of them", async () => {
    const names = await suite.names("idle-gap");
    const fs = new CheckpointHeldAt(6000);
    const clock = new ManualClock(0);
    const job = await suite.startJob(names, SHAPE, clock, fs);
    const { ctx, records, source } = job;
    try {
      await suite.producer.send({ topic: names.input, messages: [{ value: "r1" }] });
      await until(
        () => source.metrics.recordsIn === 1 && records.hasPendingData(),
        30_000,
        "r1 read",
      );
      for (const time of [1000, 2000, 3000, 4000, 5000]) {
        clock.advance(1000);
        await ctx.scope.awaitProcessed(time);
        await afterIdleReads(job, names.transactionalId);
      }
      // R1 of 4000 and 5000 wait in the open transaction for the checkpoint at 6000, which
      // covers them. Records read after the batch at 6000 was cut wait for the next batch.
      clock.advance(1000);
      await until(() => fs.held, 30_000, "the checkpoint at 6000 being written");
      await suite.producer.send({ topic: names.input, messages: [{ value: "r2" }] });
      await until(
        () => source.metrics.recordsIn === 2 && records.hasPendingData(),
        30_000,
        "r2 read",
      );
      fs.release();
      await ctx.scope.awaitProcessed(6000);
      await afterIdleReads(job, names.transactionalId);
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      fs.release();
      // The process dies before the next checkpoint.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // The checkpoint at 6000 is where a restart resumes: every output up to it is committed.
    await expectCommittedThrough6000(names, SHAPE);
  }, 120_000);

  it("a checkpoint with no read to acknowledge (a poll longer than the checkpoint interval) commits the outputs it covers: a crash loses none", async () => {
    const names = await suite.names("long-poll");
    const fs = new FaultInjectingFileSystem();
    const clock = new ManualClock(0);
    // A read waits up to 10 minutes for records: none that brought nothing comes back meanwhile.
    const shape = { ...SHAPE, appName: "long-poll", pollTimeoutMs: 600_000 };
    const job = await suite.startJob(names, shape, clock, fs);
    const { ctx, records, source } = job;
    try {
      await suite.producer.send({ topic: names.input, messages: [{ value: "r1" }] });
      await until(
        () => source.metrics.recordsIn === 1 && records.hasPendingData(),
        30_000,
        "r1 read",
      );
      for (const time of [1000, 2000, 3000, 4000, 5000, 6000]) {
        clock.advance(1000);
        await ctx.scope.awaitProcessed(time);
      }
      await linkedSource(names.transactionalId)?.pendingCommit;
      expect(ctx.scope.firstError()).toBeUndefined();
      // Only r1's read came back: the checkpoint at 6000 had no read to acknowledge.
      expect(job.reads()).toBe(1);
    } finally {
      // The process dies before any later acknowledgement.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // The checkpoint at 6000 committed R1 of 4000 and 5000 though it acknowledged no read.
    await expectCommittedThrough6000(names, shape);
    expect(await suite.outputValues(names.output)).toEqual(["R1", "R1", "R1", "R1", "R1"]);
  }, 120_000);
});
