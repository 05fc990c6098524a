// A stateful Kafka-to-Kafka job paired by transactionalId, stopped between writing a checkpoint
// and committing the transaction its acknowledgements commit: the checkpoint is on disk, but the
// group's committed offsets and the output topic are still those of the batch before. The paired
// source resumes from the group's commit, so the restart must restore the checkpoint before
// (not the newest) and run the batch again; restoring the newest would count its record twice.
import { closeConnectorsOf, type DStream, type SourceRecord } from "sluice";
import { FaultInjectingFileSystem, ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import {
  checkpointedPairSuite,
  type PairedJob,
  type PairedJobShape,
  type PairNames,
} from "./checkpointed-pair.js";
import { committedOffsets, until } from "./kafka-helpers.js";

const suite = checkpointedPairSuite("kafka-checkpoint-ahead");
const decoder = new TextDecoder();

/** Fails the folder flush that follows the rename of the checkpoint at `time`, once. */
class CommitLostAfterCheckpoint extends FaultInjectingFileSystem {
  readonly #name: string;
  #renamed = false;
  /** True once the checkpoint was renamed into place and its flush failed. */
  failed = false;

  constructor(time: number) {
    super();
    this.#name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
  }

  override async rename(from: string, to: string): Promise<void> {
    await super.rename(from, to);
    if (to.endsWith(this.#name)) this.#renamed = true;
  }

  override async syncDirectory(path: string): Promise<void> {
    if (this.#renamed && !this.failed) {
      this.failed = true;
      throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
    }
    return super.syncDirectory(path);
  }
}

/** Running counts per value (updateStateByKey) into the paired sink, as `value=count`. */
const RUNNING_TOTALS: PairedJobShape = {
  appName: "ahead",
  windowMs: 1000,
  slideMs: 1000,
  pipeline: (records: DStream<SourceRecord>) =>
    records
      .map((record): [string, number] => [decoder.decode(record.value), 1])
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.reduce((a, b) => a + b, total ?? 0),
      )
      .name("totals")
      .map(([value, total]) => `${value}=${total}`),
};

/** Produces `value` and runs the batch at `time` once the source has read it. */
async function batchOf(
  job: PairedJob,
  names: PairNames,
  clock: ManualClock,
  value: string,
  time: number,
): Promise<void> {
  const before = job.source.metrics.recordsIn;
  await suite.producer.send({ topic: names.input, messages: [{ value }] });
  await until(() => job.source.metrics.recordsIn > before, 30_000, `${value} read`);
  clock.advance(time - clock.now());
  await job.ctx.scope.awaitProcessed(time);
}

describe("a paired stateful Kafka job stopped between a checkpoint and its commit", () => {
  it("restores the checkpoint the commit matches and counts the uncommitted batch once", async () => {
    const names = await suite.names("ahead");
    const fs = new CommitLostAfterCheckpoint(2000);
    const clock = new ManualClock(0);
    const first = await suite.startJob(names, RUNNING_TOTALS, clock, fs);
    try {
      await batchOf(first, names, clock, "a", 1000);
      await until(() => first.source.metrics.commits >= 1, 30_000, "the commit of 1000");
      await batchOf(first, names, clock, "a", 2000);
      expect(fs.failed).toBe(true);
    } finally {
      // The run dies: no checkpoint is written any more, nothing more is acknowledged, and the
      // transaction holding the batch at 2000's output never commits.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await first.ctx.stop();
      await closeConnectorsOf(first.ctx);
    }
    expect((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("1");
    expect(await suite.outputValues(names.output)).toEqual(["a=1"]);

    const clock2 = new ManualClock(2000);
    const second = await suite.startJob(
      names,
      RUNNING_TOTALS,
      clock2,
      new FaultInjectingFileSystem(),
    );
    try {
      expect.soft(second.ctx.recoveryReport).toMatchObject({
        checkpointTime: 1000,
        replayedBatches: [2000],
        skippedCheckpoints: [
          {
            name: expect.stringContaining("checkpoint-0000000000002000"),
            reason: expect.stringMatching(
              /ahead of what its sources committed.*records up to offset 2, group "[^"]+" committed up to 1/,
            ),
          },
        ],
      });
      await second.ctx.scope.awaitProcessed(2000);
      await batchOf(second, names, clock2, "b", 3000);
      expect(second.ctx.scope.firstError()).toBeUndefined();
      // The stop's checkpoint acknowledges the reads, which commits their outputs.
      await second.ctx.stop();
    } finally {
      await second.ctx.stop();
      await closeConnectorsOf(second.ctx);
    }
    expect((await committedOffsets(suite.admin, names.groupId, names.input)).get(0)).toBe("3");
    // The batch at 2000 output again (its first output was never committed), then 3000's.
    expect((await suite.outputValues(names.output)).sort()).toEqual(["a=1", "a=2", "a=2", "b=1"]);
  }, 120_000);
});
