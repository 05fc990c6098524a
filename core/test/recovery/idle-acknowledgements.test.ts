// Reads that brought no records, under checkpointing. A source may commit more than the read when
// it is acknowledged: a Kafka source paired with its sink commits the sink's open transaction,
// which holds the outputs of every batch since the last commit, those of batches without input
// (a window's, state snapshots) too. Until a checkpoint covers those batches, a crash replays
// them, so such an acknowledgement must wait for the checkpoint; and an idle source must hold
// one such acknowledgement, not one per read.
import { StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { SourceInputDStream } from "../../src/plugins/source-input-dstream.js";
import { type DurableFileSystem, nodeFileSystem } from "../../src/recovery/durable-fs.js";
import { folderPerTest, ManualClock, processed, startJob } from "./job-harness.js";
import { until } from "./memory-brokers.js";
import { MemoryTransactionalPair, upperCasedWindowJob } from "./memory-transactional-pair.js";

const folder = folderPerTest("sluice-idle-acks-");
const { running } = folder;

/** Lets the acknowledgements Sluice settles asynchronously reach the in-memory pair. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

/** The input of the context's connector source. */
function sourceInput(ctx: StreamingContext): SourceInputDStream {
  const input = ctx.scope.graph.inputs.find((candidate) => candidate instanceof SourceInputDStream);
  if (!(input instanceof SourceInputDStream)) throw new Error("expected a connector input");
  return input;
}

/** The real file system, with the rename that completes the checkpoint at `time` held. */
function holdingCheckpoint(time: number) {
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
  let isHeld = false;
  const fs: DurableFileSystem = {
    ...nodeFileSystem,
    async rename(from, to) {
      if (to.endsWith(name)) {
        isHeld = true;
        await gate;
      }
      return nodeFileSystem.rename(from, to);
    },
  };
  return { fs, held: () => isHeld, release: open };
}

describe("with checkpointing, a read that brought nothing", () => {
  it("commits a window's outputs of batches without input only with the checkpoint covering them: a crash outputs nothing twice", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, upperCasedWindowJob(pair), { interval: 3000 });
    running.push(ctx);
    pair.append("r1");
    await pair.poll();
    for (const time of [1000, 2000, 3000]) {
      clock.advance(1000);
      await processed(ctx, time);
      await pair.poll();
    }
    await settled();
    // The checkpoint at 3000 acknowledged r1: R1 of 1000 to 3000 committed with its offset.
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000]);
    expect(pair.committedOffset).toBe(1);
    clock.advance(1000);
    await processed(ctx, 4000);
    // Reads that bring nothing go on; the next checkpoint is due at 6000.
    await pair.poll();
    await pair.poll();
    await settled();
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000]);
    expect(pair.open.map((written) => written.time)).toEqual([4000]);
    pair.crash();

    const again = await startJob(folder.path, new ManualClock(4000), upperCasedWindowJob(pair), {
      interval: 3000,
    });
    running.push(again);
    await processed(again, 4000);
    expect(again.recoveryReport).toMatchObject({ checkpointTime: 3000, replayedBatches: [4000] });
    await pair.poll();
    await again.stop();
    await settled();
    // R1 once for every window holding r1 that ran: 1000 to 4000.
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000, 4000]);
    expect(pair.committed.every((written) => written.values.join() === "R1")).toBe(true);
  });

  it("a checkpoint after batches without input commits their outputs though records read after its batch wait", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const { fs, held, release } = holdingCheckpoint(6000);
    const ctx = await startJob(folder.path, clock, upperCasedWindowJob(pair), {
      interval: 3000,
      fileSystem: fs,
    });
    running.push(ctx);
    pair.append("r1");
    await pair.poll();
    for (const time of [1000, 2000, 3000, 4000, 5000]) {
      clock.advance(1000);
      await processed(ctx, time);
      await pair.poll();
    }
    clock.advance(1000);
    await until(held, "the checkpoint at 6000 held");
    // r2 is read after the batch at 6000 was cut, and a read that brings nothing after it.
    pair.append("r2");
    await pair.poll();
    await pair.poll();
    release();
    await processed(ctx, 6000);
    await settled();
    // What the checkpoint at 6000 covers is committed: a restart resumes after it.
    expect(pair.committedTimes()).toEqual([1000, 2000, 3000, 4000, 5000, 6000]);
    expect(pair.committedOffset).toBe(1);
  });

  it("an idle stretch holds one acknowledgement and commits every batch's outputs at each checkpoint", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const ctx = await startJob(
      folder.path,
      clock,
      (job: StreamingContext) => {
        // An output in every batch, with or without input: what a state snapshot writes.
        job
          .source(pair.plugin(), {}, { id: "paired" })
          .foreachBatch((_, time) => pair.write(time, [`tick ${time}`]));
      },
      { interval: 10_000 },
    );
    running.push(ctx);
    const input = sourceInput(ctx);
    let mostHeld = 0;
    for (let second = 1; second <= 100; second++) {
      // Several reads bring nothing in every batch interval.
      for (let read = 0; read < 3; read++) {
        await pair.poll();
        mostHeld = Math.max(mostHeld, input.heldAcknowledgements);
      }
      clock.advance(1000);
      await processed(ctx, second * 1000);
      await settled();
      const checkpointed = Math.floor(second / 10) * 10_000;
      // Committed: exactly the batches the latest checkpoint covers.
      expect(pair.committedTimes().at(-1) ?? 0).toBe(checkpointed);
    }
    expect(pair.reads).toBe(300);
    expect(mostHeld).toBe(1);
    // One acknowledgement per checkpoint: the others were folded into it.
    expect(pair.acks).toBe(10);
    expect(pair.commits).toBe(10);
    expect(pair.committedTimes()).toEqual(
      Array.from({ length: 100 }, (_, index) => (index + 1) * 1000),
    );
  });

  it("is acknowledged at once without checkpointing", async () => {
    const pair = new MemoryTransactionalPair();
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    upperCasedWindowJob(pair)(ctx);
    await ctx.start();
    running.push(ctx);
    await pair.poll();
    await settled();
    expect(pair.acks).toBe(1);
    expect(sourceInput(ctx).heldAcknowledgements).toBe(0);
  });
});
