// Sources that replay by position and keep acknowledgement state that matters (Redis Streams
// consumer groups, JetStream, Pulsar): acknowledged only after output and checkpoint, sought to
// the checkpoint on recovery, and copies the server delivers again dropped.
import type { StreamingContext } from "sluice";
import { defineSource } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { until } from "./memory-brokers.js";
import { MemoryStream, streamValuesJob } from "./memory-stream.js";

const folder = folderPerTest("sluice-acknowledged-");
const { running } = folder;

/** Every value output, over every batch. */
function allOutput(outputs: Outputs): string[] {
  return outputs
    .batches("values")
    .flatMap(([, values]) => values as string[])
    .sort();
}

/** Lets the acknowledgements Sluice settled asynchronously reach the in-memory server. */
const settled = () => new Promise((resolve) => setImmediate(resolve));

async function feed(
  ctx: StreamingContext,
  clock: ManualClock,
  stream: MemoryStream,
  time: number,
  values: readonly string[],
): Promise<void> {
  if (values.length > 0) stream.append("p0", ...values);
  await until(() => stream.caughtUp(), `the source read the records of ${time}`);
  clock.advance(1000);
  await processed(ctx, time);
}

describe("a source whose acknowledgements wait for output (acknowledged offsets)", () => {
  it("acknowledges a batch's records only once it was output and a checkpoint covers it", async () => {
    const stream = new MemoryStream();
    const outputs = new Outputs();
    const pendingAtOutput: number[] = [];
    const clock = new ManualClock(0);
    const ctx = await startJob(
      folder.path,
      clock,
      streamValuesJob(stream, outputs, {
        atOutput: () => pendingAtOutput.push(stream.pendingCount()),
      }),
      { interval: 2000 },
    );
    running.push(ctx);
    await feed(ctx, clock, stream, 1000, ["a", "b"]);
    await settled();
    // Output, but no checkpoint yet (every 2 s): the server still holds both unacknowledged.
    expect(pendingAtOutput).toEqual([2]);
    expect(stream.acknowledged).toBe(0);
    await feed(ctx, clock, stream, 2000, ["c"]);
    await until(() => stream.acknowledged === 3, "the checkpoint at 2000 acknowledged a, b, c");
    expect(pendingAtOutput).toEqual([2, 3]);
    expect(stream.pendingCount()).toBe(0);
    expect(allOutput(outputs)).toEqual(["a", "b", "c"]);
  });

  it("replays exactly once after a crash: batches output but not checkpointed, and records read but in no batch", async () => {
    const stream = new MemoryStream();
    const outputs = new Outputs();
    const build = streamValuesJob(stream, outputs);
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build, { interval: 2000 });
    running.push(first);
    await feed(first, clock1, stream, 1000, ["a", "b"]);
    await feed(first, clock1, stream, 2000, ["c"]);
    await until(() => stream.acknowledged === 3, "checkpoint 2000 acknowledged");
    await feed(first, clock1, stream, 3000, ["d", "e"]); // output, not checkpointed
    stream.append("p0", "f", "g");
    await until(() => stream.caughtUp(), "f and g read, in no batch yet");
    stream.crash();
    expect(stream.pendingCount()).toBe(4);

    const clock2 = new ManualClock(3000);
    const second = await startJob(folder.path, clock2, build, { interval: 2000 });
    running.push(second);
    expect(second.recoveryReport).toMatchObject({
      checkpointTime: 2000,
      resumedInputs: ["stream"],
    });
    await processed(second, 3000);
    await feed(second, clock2, stream, 4000, []);
    expect(second.recoveryReport?.replayProblems).toEqual([]);
    expect(outputs.batches("values")).toEqual([
      [1000, ["a", "b"]],
      [2000, ["c"]],
      [3000, ["d", "e"]],
      [4000, ["f", "g"]],
    ]);
    await until(() => stream.pendingCount() === 0, "every record acknowledged");
    expect(stream.acknowledged).toBe(7);
  });

  it("after a crash between a checkpoint and its acknowledgements, the checkpointed records are acknowledged by seek and never come again", async () => {
    const stream = new MemoryStream();
    const outputs = new Outputs();
    const build = streamValuesJob(stream, outputs);
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build);
    running.push(first);
    await feed(first, clock1, stream, 1000, ["a", "b"]);
    await until(() => stream.acknowledged === 2, "checkpoint 1000 acknowledged");
    // The checkpoint at 2000 is written, its acknowledgements die with the process.
    stream.loseAcks = true;
    await feed(first, clock1, stream, 2000, ["c", "d"]);
    stream.append("p0", "e");
    await until(() => stream.caughtUp(), "e read");
    stream.crash();
    stream.loseAcks = false;
    expect(stream.pendingCount()).toBe(3);

    const clock2 = new ManualClock(2000);
    const second = await startJob(folder.path, clock2, build);
    running.push(second);
    expect(second.recoveryReport).toMatchObject({ checkpointTime: 2000, replayedBatches: [] });
    // seek acknowledged what the checkpoint covers; e waits for its batch.
    expect(stream.pendingCount()).toBe(1);
    await feed(second, clock2, stream, 3000, []);
    expect(outputs.batches("values")).toEqual([
      [1000, ["a", "b"]],
      [2000, ["c", "d"]],
      [3000, ["e"]],
    ]);
    await until(() => stream.pendingCount() === 0, "e acknowledged");
  });

  it("drops copies the server delivers again while the originals wait for their checkpoint, and acknowledges them only with it", async () => {
    const stream = new MemoryStream();
    const outputs = new Outputs();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, streamValuesJob(stream, outputs), {
      interval: 2000,
    });
    running.push(ctx);
    stream.append("p0", "a", "b");
    await until(() => stream.caughtUp(), "a and b read");
    // Held, in no batch yet: the acknowledgement deadline passes and the server sends them again.
    const deliveries = stream.deliveries;
    stream.expirePending();
    await until(() => stream.deliveries === deliveries + 2, "the copies read");
    clock.advance(1000);
    await processed(ctx, 1000);
    // In a batch output but not checkpointed: the deadline passes again.
    stream.expirePending();
    await until(() => stream.deliveries === deliveries + 4, "the second copies read");
    await settled();
    expect(stream.acknowledged, "a copy's acknowledgement acknowledges the original").toBe(0);
    await feed(ctx, clock, stream, 2000, ["c"]);
    expect(outputs.batches("values")).toEqual([
      [1000, ["a", "b"]],
      [2000, ["c"]],
    ]);
    await until(() => stream.pendingCount() === 0, "everything acknowledged at 2000");
    expect(stream.acknowledged).toBe(3);
  });

  it("a failed batch is not acknowledged, and its records come again exactly once after the restart", async () => {
    const stream = new MemoryStream();
    const outputs = new Outputs();
    let fail = false;
    const build = streamValuesJob(stream, outputs, {
      atOutput: () => {
        if (fail) throw new Error("the sink refused the batch");
      },
    });
    const clock1 = new ManualClock(0);
    const first = await startJob(folder.path, clock1, build);
    running.push(first);
    await feed(first, clock1, stream, 1000, ["a"]);
    await until(() => stream.acknowledged === 1, "checkpoint 1000 acknowledged");
    fail = true;
    stream.append("p0", "b", "c");
    await until(() => stream.caughtUp(), "b and c read");
    clock1.advance(1000);
    await first.scope.awaitProcessed(2000);
    expect(first.scope.firstError()).toBeDefined();
    await settled();
    expect(stream.pendingCount(), "the failed batch's records stay unacknowledged").toBe(2);
    stream.crash();
    fail = false;

    const clock2 = new ManualClock(2000);
    const second = await startJob(folder.path, clock2, build);
    running.push(second);
    await processed(second, 2000);
    expect(second.recoveryReport).toMatchObject({ checkpointTime: 1000, replayedBatches: [2000] });
    expect(outputs.batches("values")).toEqual([
      [1000, ["a"]],
      [2000, ["b", "c"]],
    ]);
    await until(() => stream.pendingCount() === 0, "b and c acknowledged");
  });
});

describe("declaring acknowledgements", () => {
  const declare = (capabilities: unknown) => () =>
    defineSource({
      name: "declared",
      version: "1.0.0",
      config: z.strictObject({}),
      capabilities: capabilities as { replayable: boolean },
      create: () => {
        throw new Error("never created");
      },
    });

  it("refuses acknowledgements after output for a source that cannot replay", () => {
    expect(declare({ replayable: false, acknowledgements: "after-output" })).toThrow(
      /"after-output" needs replayable: true/,
    );
  });

  it("refuses an unknown kind of acknowledgement", () => {
    expect(declare({ replayable: true, acknowledgements: "sometimes" })).toThrow(
      /must be "informational" or "after-output"/,
    );
  });

  it("accepts replayable sources with either kind", () => {
    expect(declare({ replayable: true, acknowledgements: "after-output" })).not.toThrow();
    expect(declare({ replayable: true, acknowledgements: "informational" })).not.toThrow();
  });
});
