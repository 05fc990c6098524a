// A checkpoint that could not be written acknowledges nothing: the next one that is written
// acknowledges what both cover. Until its acknowledgements went out, copies of those records that
// a source with acknowledgements after output delivers again (a deadline passed) must still be
// dropped, or they would be output a second time.
import type { StreamingContext } from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import { describe, expect, it } from "vitest";
import { folderPerTest, ManualClock, Outputs, startJob } from "./job-harness.js";
import { until } from "./memory-brokers.js";
import { MemoryStream } from "./memory-stream.js";

const folder = folderPerTest("sluice-failed-checkpoint-copies-");
const decoder = new TextDecoder();

/** The file system under test, with the rename completing the checkpoint at `time` held. */
class CheckpointHeld extends FaultInjectingFileSystem {
  readonly #name: string;
  #release: () => void = () => undefined;
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  held = false;

  constructor(time: number) {
    super();
    this.#name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
  }

  release(): void {
    this.#release();
  }

  override async rename(from: string, to: string): Promise<void> {
    if (to.endsWith(this.#name)) {
      this.held = true;
      await this.#released;
    }
    return super.rename(from, to);
  }
}

describe("after a checkpoint that could not be written", () => {
  it("copies of what it would have covered are still dropped until the next checkpoint acknowledges them", async () => {
    const stream = new MemoryStream();
    const outputs = new Outputs();
    const fs = new CheckpointHeld(3000);
    let failCheckpoints = false;
    fs.fillDisk({ only: (path) => failCheckpoints && path.includes(".checkpoint-") });
    const clock = new ManualClock(0);
    const ctx = await startJob(
      folder.path,
      clock,
      (job: StreamingContext) =>
        outputs.write(
          "values",
          job
            .source(stream.plugin(), {}, { id: "stream" })
            .map((record) => decoder.decode(record.value)),
        ),
      { fileSystem: fs },
    );
    folder.running.push(ctx);
    // Appends `value`, waits until it was read, and lets the next batch be cut.
    const batch = async (value: string) => {
      stream.append("p0", value);
      await until(() => stream.caughtUp(), `${value} read`);
      clock.advance(1000);
    };
    await batch("a");
    await ctx.scope.awaitProcessed(1000);
    await until(() => stream.acknowledged === 1, "a acknowledged by the checkpoint at 1000");
    failCheckpoints = true;
    await batch("b");
    await ctx.scope.awaitProcessed(2000);
    expect(ctx.scope.firstError()).toMatchObject({ code: "SLUICE_CHECKPOINT_WRITE_FAILED" });
    failCheckpoints = false;
    await batch("c");
    await until(() => fs.held, "the checkpoint at 3000 being written");
    // b and c wait for that checkpoint's acknowledgements; their deadline passes meanwhile.
    const deliveries = stream.deliveries;
    stream.expirePending();
    await until(() => stream.deliveries === deliveries + 2, "the copies of b and c read");
    fs.release();
    await ctx.scope.awaitProcessed(3000);
    await until(() => stream.acknowledged === 3, "b and c acknowledged by the checkpoint at 3000");
    clock.advance(1000);
    await ctx.scope.awaitProcessed(4000);
    // Each value output once: the copies were dropped, none is in the batch at 4000.
    expect(outputs.batches("values")).toEqual([
      [1000, ["a"]],
      [2000, ["b"]],
      [3000, ["c"]],
      [4000, []],
    ]);
    expect(stream.pendingCount()).toBe(0);
  });
});
