// textFileStream is the file source: with a checkpoint, a restarted job resumes after the byte
// offsets the checkpoint holds, so no file is read twice and none written meanwhile is skipped.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batchesUntil, nextBatch } from "./events.js";

describe("textFileStream with a checkpoint", () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
    root = undefined;
  });

  it("resumes after the checkpointed offsets: no file read twice, none skipped", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-text-file-recovery-"));
    const [input, checkpoint] = [join(root, "in"), join(root, "checkpoint")];
    await mkdir(input);
    await writeFile(join(input, "a.txt"), "a1\na2\n");
    // Per batch time, as an idempotent sink keeps them: a replayed batch overwrites its own.
    const written = new Map<number, string[]>();
    const lines = (): string[] =>
      [...written].sort(([a], [b]) => a - b).flatMap(([, records]) => records);
    const create = (clock: ManualClock) => () => {
      const ctx = new StreamingContext({ batchInterval: 1000, clock });
      ctx
        .textFileStream(input, { newFilesOnly: false, id: "files" })
        .foreachBatch((batch, time) => {
          written.set(time, batchRecords(batch));
        });
      return ctx;
    };

    const firstClock = new ManualClock(0);
    const first = await StreamingContext.getOrCreate(checkpoint, create(firstClock));
    await first.start();
    await batchesUntil(first, firstClock, () => lines().length >= 2, "the lines of a.txt");
    // One more batch, so a checkpoint covers the batch that held a.txt.
    await nextBatch(first, firstClock);
    await first.stop();

    await writeFile(join(root, "b.txt"), "b1\n");
    await rename(join(root, "b.txt"), join(input, "b.txt"));
    const secondClock = new ManualClock(firstClock.now());
    const second = await StreamingContext.getOrCreate(checkpoint, create(secondClock));
    await second.start();
    expect(second.recoveryReport).toMatchObject({
      resumedInputs: ["files"],
      unrecoverableInputs: [],
    });
    await batchesUntil(second, secondClock, () => lines().includes("b1"), "the line of b.txt");
    await nextBatch(second, secondClock);
    await second.stop();
    expect(lines()).toEqual(["a1", "a2", "b1"]);
  });
});
