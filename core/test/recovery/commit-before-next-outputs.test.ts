// A batch's outputs never start while an earlier batch's commit (checkpoint, then the sources'
// acknowledgements) is under way: a Kafka sink paired with its source keeps one transaction
// open across batches, and an acknowledgement commits it with the offsets acknowledged, so a
// commit still running beside the next batch's outputs would commit some of them without their
// offsets (a crash then outputs them twice). Batches without jobs are committed beside the
// queue; these tests hold such a commit open.
import type { StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { describe, expect, it } from "vitest";
import type { ForEachDStream } from "../../src/dstream/for-each-dstream.js";
import { type DurableFileSystem, nodeFileSystem } from "../../src/recovery/durable-fs.js";
import { gate, nextEvent, turn } from "../streaming/events.js";
import { fakeScheduler } from "../streaming/fake-scheduler.js";
import { folderPerTest, processed, startJob } from "./job-harness.js";
import { until } from "./memory-brokers.js";
import { MemoryStream } from "./memory-stream.js";

/** A scheduler over in-memory fakes: every step it takes is logged to `events`. */
function fakeSchedulerWith(commit: (time: number) => Promise<void>, concurrentJobs = 1) {
  const events: string[] = [];
  const errors: unknown[] = [];
  const scheduler = fakeScheduler(events, {
    concurrentJobs,
    reportError: (error) => errors.push(error),
    commitBatch: (time, failure) => {
      events.push(`commit ${time}${failure === undefined ? "" : " failed"}`);
      return commit(time).then(() => {
        events.push(`committed ${time}`);
      });
    },
  });
  const output = (run: (time: number) => Promise<void> = async () => undefined) =>
    ({
      outputId: 0,
      operation: "foreachBatch",
      run: async (time: number) => {
        events.push(`output ${time}`);
        await run(time);
        return 0;
      },
    }) as unknown as ForEachDStream<unknown>;
  return { scheduler, events, errors, output };
}

describe("the scheduler holds a batch's outputs until earlier commits are done", () => {
  it("a held commit of a batch without jobs keeps the next batch's outputs from starting", async () => {
    const held = gate();
    const { scheduler, events, errors, output } = fakeSchedulerWith((time) =>
      time === 1000 ? held.promise : Promise.resolve(),
    );
    scheduler.submit(1000, [], new Map());
    scheduler.submit(2000, [output()], new Map());
    // An output that did not wait would have started within these callbacks.
    await turn();
    expect(events).toEqual(["commit 1000"]);
    expect(scheduler.hasUnfinishedUpTo(1000)).toBe(true);
    held.open();
    await until(() => scheduler.isIdle(), "both batches done");
    expect(events).toEqual([
      "commit 1000",
      "committed 1000",
      "output 2000",
      "commit 2000",
      "committed 2000",
    ]);
    expect(errors).toEqual([]);
  });

  it("a commit that fails still lets the next batch run, and its failure is reported", async () => {
    const held = gate();
    const failure = new Error("the checkpoint could not be written");
    const { scheduler, events, errors, output } = fakeSchedulerWith((time) =>
      time === 1000 ? held.promise.then(() => Promise.reject(failure)) : Promise.resolve(),
    );
    scheduler.submit(1000, [], new Map());
    scheduler.submit(2000, [output()], new Map());
    await turn();
    expect(events).toEqual(["commit 1000"]);
    held.open();
    await until(() => scheduler.isIdle(), "both batches done");
    expect(events).toEqual(["commit 1000", "output 2000", "commit 2000", "committed 2000"]);
    expect(errors).toEqual([failure]);
  });

  it("an earlier batch still queued never waits for a later batch's commit", async () => {
    const outputHeld = gate();
    const commitHeld = gate();
    const { scheduler, events, output } = fakeSchedulerWith((time) =>
      time === 3000 ? commitHeld.promise : Promise.resolve(),
    );
    scheduler.submit(1000, [output(() => outputHeld.promise)], new Map());
    scheduler.submit(2000, [output()], new Map());
    scheduler.submit(3000, [], new Map());
    await turn();
    // The first batch's output starts as it is submitted, before the third batch is.
    expect(events).toEqual(["output 1000", "commit 3000"]);
    outputHeld.open();
    // 2000 runs while the commit of 3000 is still held: it is later, not earlier.
    await until(() => events.includes("committed 2000"), "the batch at 2000 committed");
    expect(events).toEqual([
      "output 1000",
      "commit 3000",
      "commit 1000",
      "committed 1000",
      "output 2000",
      "commit 2000",
      "committed 2000",
    ]);
    commitHeld.open();
    await until(() => scheduler.isIdle(), "every batch done");
    expect(events.at(-1)).toBe("committed 3000");
  });

  it("with two jobs at a time, a batch started while an earlier one commits waits for that commit", async () => {
    const commitHeld = gate();
    const outputHeld = gate();
    const { scheduler, events, output } = fakeSchedulerWith(
      (time) => (time === 1000 ? commitHeld.promise : Promise.resolve()),
      2,
    );
    scheduler.submit(1000, [output()], new Map());
    scheduler.submit(2000, [output(() => outputHeld.promise)], new Map());
    scheduler.submit(3000, [output()], new Map());
    await until(() => events.includes("commit 1000"), "the commit of 1000 under way");
    // 2000 done frees its place for 3000 while the commit of 1000 is still held.
    outputHeld.open();
    await until(() => events.includes("committed 2000"), "the batch at 2000 committed");
    await turn();
    expect(events).not.toContain("output 3000");
    commitHeld.open();
    await until(() => scheduler.isIdle(), "every batch done");
    expect(events.indexOf("output 3000")).toBeGreaterThan(events.indexOf("committed 1000"));
  });
});

const folder = folderPerTest("sluice-commit-order-");
const decoder = new TextDecoder();

/** The real file system, with the rename that completes the checkpoint at `time` held. */
function holdingCheckpoint(time: number, events: string[]) {
  const held = gate();
  const name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
  const fs: DurableFileSystem = {
    ...nodeFileSystem,
    async rename(from, to) {
      if (!to.endsWith(name)) return nodeFileSystem.rename(from, to);
      events.push(`checkpoint ${time} held`);
      await held.promise;
      await nodeFileSystem.rename(from, to);
      events.push(`checkpoint ${time} written`);
    },
  };
  return { fs, release: held.open };
}

/**
 * A job over `stream` whose output logs each batch with how many records were acknowledged by
 * then, optionally through a window of `window` ms every `slide` ms.
 */
async function startLoggingJob(
  stream: MemoryStream,
  events: string[],
  clock: ManualClock,
  options: { fileSystem: DurableFileSystem; interval?: number; window?: [number, number] },
): Promise<StreamingContext> {
  const { window, ...checkpoint } = options;
  const ctx = await startJob(
    folder.path,
    clock,
    (job: StreamingContext) => {
      const values = job
        .source(stream.plugin(), {}, { id: "stream" })
        .map((record) => decoder.decode(record.value));
      (window === undefined ? values : values.window(window[0], window[1])).foreachBatch(
        (_, time) => {
          events.push(`output ${time} (${stream.acknowledged} acknowledged)`);
        },
      );
    },
    checkpoint,
  );
  folder.running.push(ctx);
  return ctx;
}

/** Appends `value` to the stream and waits until the job's input has read it. */
async function appendRead(stream: MemoryStream, value: string): Promise<void> {
  stream.append("p0", value);
  await until(() => stream.caughtUp(), `${value} read`);
}

describe("with checkpointing, a checkpoint's acknowledgements come before the next batch's outputs", () => {
  it("a window emitting every other batch: the next output waits for the checkpoint of a batch without jobs", async () => {
    const stream = new MemoryStream();
    const events: string[] = [];
    const { fs, release } = holdingCheckpoint(3000, events);
    const clock = new ManualClock(0);
    // A window of one batch every two: the batches at odd seconds run no job and compute no
    // window's parent, so they are committed beside the queue.
    const ctx = await startLoggingJob(stream, events, clock, {
      fileSystem: fs,
      window: [1000, 2000],
    });
    for (const [time, value] of [
      [1000, "a"],
      [2000, "b"],
      [3000, "c"],
    ] as const) {
      await appendRead(stream, value);
      clock.advance(1000);
      if (time < 3000) await processed(ctx, time);
    }
    await until(() => events.includes("checkpoint 3000 held"), "the checkpoint at 3000 held");
    await appendRead(stream, "d");
    const submitted = nextEvent(ctx, "onBatchSubmitted", (info) => info.batchTime === 4000);
    clock.advance(1000);
    await submitted;
    await turn();
    try {
      expect(events).toEqual(["output 2000 (1 acknowledged)", "checkpoint 3000 held"]);
    } finally {
      release();
    }
    await processed(ctx, 4000);
    // a, b and c acknowledged by the checkpoint at 3000 before the window at 4000 was output.
    expect(events).toEqual([
      "output 2000 (1 acknowledged)",
      "checkpoint 3000 held",
      "checkpoint 3000 written",
      "output 4000 (3 acknowledged)",
    ]);
  });
});

// A batch with outputs stays running until its commit is done, so with one job at a time the
// next batch cannot start before; this keeps that order from being lost.
describe("with checkpoints every few batches", () => {
  it("the batch after a checkpoint outputs only once the checkpoint and its acknowledgements are done", async () => {
    const stream = new MemoryStream();
    const events: string[] = [];
    const { fs, release } = holdingCheckpoint(2000, events);
    const clock = new ManualClock(0);
    const ctx = await startLoggingJob(stream, events, clock, { fileSystem: fs, interval: 2000 });
    for (const value of ["a", "b"]) {
      await appendRead(stream, value);
      clock.advance(1000);
    }
    await until(() => events.includes("checkpoint 2000 held"), "the checkpoint at 2000 held");
    await appendRead(stream, "c");
    const submitted = nextEvent(ctx, "onBatchSubmitted", (info) => info.batchTime === 3000);
    clock.advance(1000);
    await submitted;
    await turn();
    try {
      expect(events).toEqual([
        "output 1000 (0 acknowledged)",
        "output 2000 (0 acknowledged)",
        "checkpoint 2000 held",
      ]);
    } finally {
      release();
    }
    await processed(ctx, 3000);
    expect(events).toEqual([
      "output 1000 (0 acknowledged)",
      "output 2000 (0 acknowledged)",
      "checkpoint 2000 held",
      "checkpoint 2000 written",
      "output 3000 (2 acknowledged)",
    ]);
  });
});
