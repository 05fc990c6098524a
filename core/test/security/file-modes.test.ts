import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consoleSink, fileSink } from "sluice";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckpointStore } from "../../src/recovery/checkpoint-store.js";
import { deadLetterSinkConfig } from "../../src/recovery/dead-letter-config.js";
import { nodeFileSystem } from "../../src/recovery/durable-fs.js";
import { WriteAheadLog } from "../../src/recovery/write-ahead-log.js";

const encoder = new TextEncoder();
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-modes-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function modeOf(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** The mode of every file and folder under `folder` (itself included), by relative path. */
async function modesUnder(folder: string): Promise<Map<string, number>> {
  const modes = new Map<string, number>([[".", await modeOf(folder)]]);
  for (const entry of await readdir(folder, { recursive: true })) {
    modes.set(entry, await modeOf(join(folder, entry)));
  }
  return modes;
}

function expectPrivate(modes: Map<string, number>, folders: readonly string[]): void {
  for (const [path, mode] of modes) {
    expect({ path, mode: mode.toString(8) }).toEqual({
      path,
      mode: folders.includes(path) ? "700" : "600",
    });
  }
}

describe("files at rest", () => {
  it("the durable file system creates folders 0700 (parents too) and files 0600", async () => {
    const folder = join(root, "a", "b");
    await nodeFileSystem.mkdir(folder);
    const file = await nodeFileSystem.open(join(folder, "f"), "create");
    await file.write(encoder.encode("x"));
    await file.close();
    const appended = await nodeFileSystem.open(join(folder, "g"), "append");
    await appended.close();
    expectPrivate(await modesUnder(join(root, "a")), [".", "b"]);
  });

  it("checkpoints and batch records are 0600 in a 0700 folder", async () => {
    const store = new CheckpointStore(join(root, "checkpoint"));
    await store.write({
      appName: "modes",
      batchInterval: 1000,
      zeroTime: 0,
      time: 1000,
      writtenAt: 0,
      firstStartedAt: 0,
      pendingBatches: [],
      inputs: [],
      operators: [],
    });
    await store.writeBatch({ time: 2000, inputs: [] });
    const modes = await modesUnder(join(root, "checkpoint"));
    expect([...modes.keys()].sort()).toEqual([
      ".",
      "batch-0000000000002000.pending",
      "checkpoint-0000000000001000.ckpt",
    ]);
    expectPrivate(modes, ["."]);
  });

  it("write-ahead log segments are 0600 in 0700 folders", async () => {
    const wal = new WriteAheadLog(join(root, "checkpoint", "wal", "source_socket_1"), {
      segmentBytes: 1024,
    });
    await wal.open();
    // Enough to roll over to a second segment.
    for (let i = 0; i < 4; i++) await wal.append(encoder.encode("record payload ".repeat(40)));
    await wal.close();
    const modes = await modesUnder(join(root, "checkpoint"));
    expect([...modes.keys()].filter((path) => path.endsWith(".wal")).length).toBeGreaterThan(1);
    expectPrivate(modes, [".", "wal", join("wal", "source_socket_1")]);
  });

  it("the file sink keeps files private when asked, and otherwise follows the umask", async () => {
    const context = { batchTime: 1000, partition: 0, idempotencyKey: "k" };
    const signal = new AbortController().signal;
    for (const privateFiles of [true, false]) {
      const directory = join(root, `out-${privateFiles}`, "nested");
      const sink = fileSink.create(fileSink.config.parse({ directory, privateFiles }), {} as never);
      await sink.connect(signal);
      await sink.writeBatch([{ value: encoder.encode("a record") }], context);
      await sink.close();
      const [file] = await readdir(directory);
      const umask = process.umask();
      expect((await modeOf(join(directory, file ?? ""))).toString(8)).toBe(
        (privateFiles ? 0o600 : 0o666 & ~umask).toString(8),
      );
      expect((await modeOf(directory)).toString(8)).toBe(
        (privateFiles ? 0o700 : 0o777 & ~umask).toString(8),
      );
    }
  });

  it("a dead-letter sink with a privateFiles option gets it turned on unless the config says", () => {
    expect(deadLetterSinkConfig(fileSink, { directory: "dead" })).toEqual({
      directory: "dead",
      privateFiles: true,
    });
    expect(deadLetterSinkConfig(fileSink, { directory: "dead", privateFiles: false })).toEqual({
      directory: "dead",
      privateFiles: false,
    });
    expect(deadLetterSinkConfig(consoleSink, {})).toEqual({});
  });
});
