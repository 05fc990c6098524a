import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, Receiver, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batchesUntil, nextBatch, nextEvent } from "./events.js";

function manualContext(): { ctx: StreamingContext; clock: ManualClock } {
  const clock = new ManualClock();
  return { ctx: new StreamingContext({ batchInterval: 1000, clock }), clock };
}

describe("socketTextStream against a real TCP server", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  function listen(onConnection: (socket: Socket, index: number) => void): Promise<number> {
    let connections = 0;
    server = createServer((socket) => onConnection(socket, connections++));
    return new Promise((resolve) => {
      server?.listen(0, "127.0.0.1", () => {
        const address = server?.address();
        resolve(typeof address === "object" && address !== null ? address.port : -1);
      });
    });
  }

  it("turns received lines into batches, and reconnects when the server closes", async () => {
    const open: Socket[] = [];
    const port = await listen((socket, index) => {
      if (index === 0) socket.end("hello world\nsecond line\r\nwithout newline");
      else if (index === 1) socket.end("after reconnect\n");
      else open.push(socket); // later connections stay open and quiet
    });
    const { ctx, clock } = manualContext();
    const batches: string[][] = [];
    ctx.socketTextStream("127.0.0.1", port, { restartDelayMs: 1 }).foreachBatch((batch) => {
      batches.push(batchRecords(batch));
    });
    const started = nextEvent(ctx, "onReceiverStarted");
    await ctx.start();
    expect((await started).name).toMatch(/^source:socket#/);
    const lines = (): string[] => batches.flat();
    await batchesUntil(ctx, clock, () => lines().length >= 4, "four lines");
    await ctx.stop();
    for (const socket of open) socket.destroy();
    // The last line without a newline counts once the server closed the connection.
    expect(lines()).toEqual(["hello world", "second line", "without newline", "after reconnect"]);
  });

  it("reports a refused connection through the listener", async () => {
    const port = await listen(() => {});
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const { ctx } = manualContext();
    ctx.socketTextStream("127.0.0.1", port, { restartDelayMs: 60_000 }).foreachBatch(() => {});
    // A connector source reports each failed connection attempt as a receiver error.
    const failed = nextEvent(ctx, "onReceiverError");
    await ctx.start();
    const info = await failed;
    expect(info.lastErrorMessage).toMatch(/cannot connect to 127\.0\.0\.1/);
    expect(info.lastError).toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      cause: { code: "ECONNREFUSED" },
    });
    await ctx.stop();
  });

  it("rejects a bad port and a bad restart delay", () => {
    const { ctx } = manualContext();
    expect(() => ctx.socketTextStream("localhost", 70_000)).toThrowError(
      expect.objectContaining({ code: "SLUICE_INVALID_ARGUMENT" }),
    );
    expect(() => ctx.socketTextStream("localhost", 9999, { restartDelayMs: -1 })).toThrowError(
      expect.objectContaining({ code: "SLUICE_INVALID_ARGUMENT" }),
    );
  });
});

describe("textFileStream on a real directory", () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root !== undefined) await rm(root, { recursive: true, force: true });
  });

  /** Writes a file beside the watched directory and moves it in, as Spark requires. */
  async function moveIn(
    staging: string,
    watched: string,
    name: string,
    text: string,
  ): Promise<void> {
    await writeFile(join(staging, name), text);
    await rename(join(staging, name), join(watched, name));
  }

  it("reads the lines of files moved in, one partition per file", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-files-"));
    const [watched, staging] = [join(root, "in"), join(root, "staging")];
    await mkdir(watched);
    await mkdir(staging);
    await writeFile(join(watched, "old.txt"), "present before start\n");
    const { ctx, clock } = manualContext();
    const batches: string[][][] = [];
    ctx.textFileStream(watched, { id: "watched" }).foreachBatch((batch) => {
      batches.push(batch.partitions.map((partition) => [...partition]));
    });
    // The files already there are skipped once the source has listed the folder (it started).
    const started = nextEvent(ctx, "onReceiverStarted", (info) => info.name === "watched");
    await ctx.start();
    await started;
    const partitions = (): string[][] => batches.flat();
    const lineCount = (): number => partitions().flat().length;

    await moveIn(staging, watched, "b.txt", "b1\nb2\n");
    await moveIn(staging, watched, "a.txt", "a1\r\na2");
    await writeFile(join(watched, ".c.txt.tmp"), "being written");
    await batchesUntil(ctx, clock, () => lineCount() >= 4, "lines of a.txt and b.txt");
    const byFirstLine = (list: string[][]) =>
      [...list].sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(byFirstLine(partitions())).toEqual([
      ["a1", "a2"],
      ["b1", "b2"],
    ]);
    // Files that arrived together are one partition each, in name order.
    for (const batch of batches) {
      expect(batch).toEqual(byFirstLine(batch));
    }

    const before = batches.length;
    await moveIn(staging, watched, "d.txt", "d1\n");
    await batchesUntil(ctx, clock, () => lineCount() >= 5, "the line of d.txt");
    await ctx.stop();
    expect(batches.slice(before).flat()).toEqual([["d1"]]);
  });

  it("reads files already there with newFilesOnly: false, keeps only the files filter accepts", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-files-"));
    await writeFile(join(root, "old.txt"), "x\n");
    await writeFile(join(root, "old.log"), "not this\n");
    const { ctx, clock } = manualContext();
    const seen: string[][] = [];
    ctx
      .textFileStream(root, { newFilesOnly: false, filter: (name) => name.endsWith(".txt") })
      .foreachBatch((batch) => {
        seen.push(batchRecords(batch));
      });
    await ctx.start();
    await batchesUntil(ctx, clock, () => seen.flat().length > 0, "the line of old.txt");
    await ctx.stop();
    expect(seen.flat()).toEqual(["x"]);
  });

  it("takes pollIntervalMs as a duration string, and names it when it is not one", async () => {
    const folder = await mkdtemp(join(tmpdir(), "sluice-files-"));
    root = folder;
    await writeFile(join(folder, "old.txt"), "x\n");
    const { ctx, clock } = manualContext();
    const seen: string[][] = [];
    ctx
      .textFileStream(folder, { newFilesOnly: false, pollIntervalMs: "50ms" })
      .foreachBatch((batch) => {
        seen.push(batchRecords(batch));
      });
    await ctx.start();
    await batchesUntil(ctx, clock, () => seen.flat().length > 0, "the line of old.txt");
    await ctx.stop();
    expect(seen.flat()).toEqual(["x"]);

    const { ctx: refused } = manualContext();
    expect(() => refused.textFileStream(folder, { pollIntervalMs: "1 s" as "1s" })).toThrow(
      expect.objectContaining({ message: expect.stringMatching(/pollIntervalMs.*"1s"/) }),
    );
  });

  it("survives a missing directory, reporting it through the listener", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-files-"));
    const { ctx, clock } = manualContext();
    const missing: string[][] = [];
    ctx.textFileStream(join(root, "nowhere")).foreachBatch((batch) => {
      missing.push(batchRecords(batch));
    });
    // The file source cannot connect while the folder is missing, and retries with backoff.
    const failed = nextEvent(ctx, "onReceiverError");
    await ctx.start();
    expect((await failed).lastErrorMessage).toMatch(/cannot open the folder .*nowhere/);
    await nextBatch(ctx, clock);
    await ctx.stop();
    expect(missing).toEqual([[]]);
  });
});

describe("receiverStream", () => {
  class ListReceiver extends Receiver<number> {
    readonly events: string[] = [];
    onStart(): void {
      this.events.push("start");
    }
    onStop(): void {
      this.events.push("stop");
    }
  }

  it("forms each batch from what was stored since the previous tick", async () => {
    const { ctx, clock } = manualContext();
    const receiver = new ListReceiver();
    const batches: number[][] = [];
    ctx.receiverStream(receiver).foreachBatch((batch) => {
      batches.push(batchRecords(batch));
    });
    const started = nextEvent(ctx, "onReceiverStarted");
    await ctx.start();
    expect((await started).name).toBe("ListReceiver");
    expect(receiver.isStarted()).toBe(true);
    receiver.store([1, 2]);
    receiver.store([3]);
    await nextBatch(ctx, clock);
    await nextBatch(ctx, clock);
    receiver.store([4]);
    await nextBatch(ctx, clock);
    await ctx.stop();
    expect(batches).toEqual([[1, 2, 3], [], [4]]);
    expect(receiver.events).toEqual(["start", "stop"]);
    expect(receiver.isStopped()).toBe(true);
    expect(() => receiver.store([5])).toThrowError(
      expect.objectContaining({ code: "SLUICE_ILLEGAL_STATE" }),
    );
  });

  it("reports errors, refuses a second stream and storing before it is attached", async () => {
    const { ctx } = manualContext();
    const receiver = new ListReceiver();
    expect(() => receiver.store([1])).toThrowError(
      expect.objectContaining({
        code: "SLUICE_ILLEGAL_STATE",
        message: expect.stringMatching(/receiverStream/),
      }),
    );
    ctx.receiverStream(receiver).foreachBatch(() => {});
    expect(() => ctx.receiverStream(receiver)).toThrowError(
      expect.objectContaining({
        code: "SLUICE_ILLEGAL_STATE",
        message: expect.stringMatching(/already feeds/),
      }),
    );
    await ctx.start();
    const reported = nextEvent(ctx, "onReceiverError");
    const cause = new Error("upstream hiccup");
    receiver.reportError("lost a message", cause);
    expect(await reported).toMatchObject({
      lastErrorMessage: "lost a message",
      lastError: cause,
      active: true,
    });
    await ctx.stop();
  });

  it("a receiver whose onStart throws is stopped and reported, the context keeps running", async () => {
    class Broken extends Receiver<number> {
      onStart(): void {
        throw new Error("no credentials");
      }
      onStop(): void {}
    }
    const { ctx, clock } = manualContext();
    const batches: number[][] = [];
    ctx.receiverStream(new Broken()).foreachBatch((batch) => {
      batches.push(batchRecords(batch));
    });
    const stopped = nextEvent(ctx, "onReceiverStopped");
    await ctx.start();
    expect(await stopped).toMatchObject({
      name: "Broken",
      active: false,
      lastError: { message: "no credentials" },
    });
    await nextBatch(ctx, clock);
    await ctx.stop();
    expect(batches).toEqual([[]]);
  });
});
