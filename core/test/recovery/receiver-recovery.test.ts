// A receiver's records go through the write-ahead log like any source's that cannot replay: what
// a batch tick handed over survives a crash before the batch was output, and comes back as the
// values the receiver stored (structured values included).
import { Receiver, type StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, Outputs, processed, startJob } from "./job-harness.js";

const folder = folderPerTest("sluice-receiver-recovery-");
const { running } = folder;

interface Reading {
  readonly sensor: string;
  readonly values: number[];
}

class ReadingsReceiver extends Receiver<Reading> {
  onStart(): void {}
  onStop(): void {}
}

function build(receiver: ReadingsReceiver, outputs: Outputs): (ctx: StreamingContext) => void {
  return (ctx) => outputs.write("readings", ctx.receiverStream(receiver));
}

describe("a receiver with checkpointing", () => {
  it("replays what a tick logged when the run died before the batch was output", async () => {
    const outputs = new Outputs();
    const fs = new FaultInjectingFileSystem();
    // The tick at 1000 ms logs the records (segment synced), then the run dies while it records
    // the batch: no output, no checkpoint holds them.
    fs.crashAfter({ step: "open", path: "batch-", after: { step: "sync", path: "segment-" } });
    const first = new ReadingsReceiver();
    const clock = new ManualClock(0);
    const dying = await startJob(folder.path, clock, build(first, outputs), { fileSystem: fs });
    first.store([
      { sensor: "a", values: [1, 2] },
      { sensor: "b", values: [] },
    ]);
    clock.advance(1000);
    await fs.whenCrashed();
    void dying.stop().catch(() => undefined);
    expect(outputs.batches("readings")).toEqual([]);

    const second = new ReadingsReceiver();
    const clockAfter = new ManualClock(0);
    const restarted = await startJob(folder.path, clockAfter, build(second, outputs));
    running.push(restarted);
    clockAfter.advance(1000);
    await processed(restarted, 1000);
    expect(outputs.batches("readings")).toEqual([
      [
        1000,
        [
          { sensor: "a", values: [1, 2] },
          { sensor: "b", values: [] },
        ],
      ],
    ]);
  });

  it("gives a batch what flow control allows and keeps the rest for the next", async () => {
    const outputs = new Outputs();
    const receiver = new ReadingsReceiver();
    const clock = new ManualClock(0);
    const ctx = await startJob(folder.path, clock, build(receiver, outputs), {}, 1000, {
      backpressure: { enabled: false, maxRate: 2 },
    });
    running.push(ctx);
    receiver.store(["a", "b", "c", "d", "e"].map((sensor) => ({ sensor, values: [] })));
    for (const time of [1000, 2000, 3000]) {
      clock.advance(1000);
      await processed(ctx, time);
    }
    const sensors = outputs
      .batches("readings")
      .map(([time, records]) => [time, (records as Reading[]).map((r) => r.sensor)]);
    expect(sensors).toEqual([
      [1000, ["a", "b"]],
      [2000, ["c", "d"]],
      [3000, ["e"]],
    ]);
  });
});
