// Spark's DStream.checkpoint(interval): a stream asks for its state to be saved every interval
// of batch time; the job checkpoints at the shortest interval asked for, its own included, and
// a restart replays the batches since the last one exactly.
import { readdir } from "node:fs/promises";
import { type DStream, StreamingContext } from "sluice";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";
import { MemoryLog, until } from "./memory-brokers.js";

const folder = folderPerTest("sluice-stream-checkpoint-");
const { running } = folder;
const decoder = new TextDecoder();

type Totals = DStream<readonly [string, number]>;

/** Running totals of words, with `configure` applied to the totals stream. */
function totalsJob(log: MemoryLog, outputs: Outputs, configure: (totals: Totals) => void) {
  return (ctx: StreamingContext) => {
    const totals = ctx
      .source(log.plugin(), {}, { id: "words" })
      .map((record): [string, number] => [decoder.decode(record.value), 1])
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.reduce((a, b) => a + b, total ?? 0),
      );
    configure(totals);
    outputs.write("totals", totals);
  };
}

async function checkpointTimes(): Promise<number[]> {
  return (await readdir(folder.path))
    .flatMap((name) => /^checkpoint-(\d{16})\.ckpt$/.exec(name)?.[1] ?? [])
    .map(Number)
    .sort((a, b) => a - b);
}

/** Runs the batches up to `last` ms, a word each. */
async function runTo(ctx: StreamingContext, clock: ManualClock, log: MemoryLog, last: number) {
  while (clock.now() < last) {
    log.append("p0", `w${clock.now()}`);
    await until(() => log.caughtUp(), "the source read the word");
    clock.advance(1000);
    await processed(ctx, clock.now());
  }
}

describe("DStream.checkpoint(interval)", () => {
  it("checkpoints every interval a stream asks for instead of after every batch, and a restart replays since the last", async () => {
    const log = new MemoryLog();
    const written = new Outputs();
    const build = totalsJob(log, written, (totals) => totals.checkpoint("3s"));
    const clock = new ManualClock(0);
    const first = await startJob(folder.path, clock, build);
    running.push(first);
    await runTo(first, clock, log, 7000);
    // The first checkpoint at start, then 3000 and 6000 (the newest three are kept).
    expect(await checkpointTimes()).toEqual([0, 3000, 6000]);
    log.crash();

    const replayed = new Outputs();
    const second = await startJob(
      folder.path,
      new ManualClock(7000),
      totalsJob(log, replayed, (totals) => totals.checkpoint("3s")),
    );
    running.push(second);
    expect(second.recoveryReport).toMatchObject({ checkpointTime: 6000, replayedBatches: [7000] });
    await processed(second, 7000);
    expect(replayed.batches("totals")).toEqual(written.batches("totals").slice(-1));
  });

  it("takes the job's own interval when it is shorter, and after every batch without either", async () => {
    const log = new MemoryLog();
    const clock = new ManualClock(0);
    const ctx = await startJob(
      folder.path,
      clock,
      totalsJob(log, new Outputs(), (totals) => totals.checkpoint("3s")),
      { interval: "2s" },
    );
    running.push(ctx);
    await runTo(ctx, clock, log, 7000);
    expect(await checkpointTimes()).toEqual([2000, 4000, 6000]);
  });

  it("checkpoints after every batch when no stream asks for an interval", async () => {
    const log = new MemoryLog();
    const clock = new ManualClock(0);
    const ctx = await startJob(
      folder.path,
      clock,
      totalsJob(log, new Outputs(), () => undefined),
    );
    running.push(ctx);
    await runTo(ctx, clock, log, 5000);
    expect(await checkpointTimes()).toEqual([3000, 4000, 5000]);
  });

  it("refuses an interval that is not a multiple of the stream's slide, or not a duration", () => {
    const ctx = new StreamingContext({ batchInterval: 1000 });
    const windowed = ctx.queueStream<number>([]).window("4s", "2s");
    expect(() => windowed.checkpoint("3s")).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_DURATION",
        message: expect.stringContaining("a multiple of its slide duration, 2000 ms"),
      }),
    );
    expect(() => windowed.checkpoint("soon" as unknown as number)).toThrow(
      expect.objectContaining({ code: "SLUICE_INVALID_DURATION" }),
    );
    expect(windowed.checkpoint("4s").checkpointInterval).toBe(4000);
  });

  it("refuses to start a job whose stream asks for checkpoints without a checkpoint folder, naming the stream", async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    const counts = ctx
      .queueStream<[string, number]>([])
      .updateStateByKey(
        (values: number[], total: number | undefined) => (total ?? 0) + values.length,
      )
      .checkpoint("5s");
    counts.foreachBatch(() => undefined);
    await expect(Promise.resolve().then(() => ctx.start())).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      message: expect.stringContaining(
        `(stream ${counts.id}) asks for its state to be checkpointed every 5000 ms`,
      ),
    });
  });
});
