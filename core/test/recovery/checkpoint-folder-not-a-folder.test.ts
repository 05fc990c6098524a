// A checkpoint folder that is a file (a typo, or an old file left with the folder's name): the
// job is refused with a typed error naming the path and what to do, not a bare ENOTDIR/EEXIST.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StreamingContext } from "sluice";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let root: string;
let file: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-checkpoint-file-"));
  file = join(root, "checkpoints");
  await writeFile(file, "not a folder\n");
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function build(): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 100, appName: "not-a-folder" });
  ctx.queueStream<string>([]).print();
  return ctx;
}

const notAFolder = (path: string) => ({
  code: "SLUICE_CHECKPOINT_WRITE_FAILED",
  message: expect.stringContaining(`the checkpoint folder ${path} is not a folder`),
});

describe("a checkpoint folder that is a file", () => {
  it("is refused by getOrCreate, naming it", async () => {
    await expect(StreamingContext.getOrCreate(file, build)).rejects.toMatchObject(notAFolder(file));
  });

  it("is refused by getOrCreate when a folder on its path is a file", async () => {
    const below = join(file, "job");
    await expect(StreamingContext.getOrCreate(below, build)).rejects.toMatchObject(
      notAFolder(below),
    );
  });

  it("is refused when a context started with ctx.checkpoint(file)", async () => {
    const ctx = build();
    ctx.checkpoint(file);
    await expect(ctx.start()).rejects.toMatchObject(notAFolder(file));
    expect(ctx.state).toBe("STOPPED");
  });
});
