import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchRecords, Receiver, StreamingContext } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it } from "vitest";
import { batchCompleted, nextEvent, turn } from "./events.js";

function manualContext(): { ctx: StreamingContext; clock: ManualClock } {
  const clock = new ManualClock();
  return { ctx: new StreamingContext({ batchInterval: 1000, clock }), clock };
}

/** Advances one interval and waits for that batch to complete. */
async function nextBatch(ctx: StreamingContext, clock: ManualClock): Promise<void> {
  const done = batchCompleted(ctx, clock.now() + 1000);
  clock.advance(1000);
  await done;
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

  it("turns received lines into the next batch, and reconnects when the server closes", async () => {
    const port = await listen((socket, index) => {
      if (index === 0) socket.end("hello world\nsecond line\r\nwithout newline");
      else socket.end("after reconnect\n");
    });
    const { ctx, clock } = manualContext();
    const batches: string[][] = [];
    ctx.socketTextStream("127.0.0.1", port, { restartDelayMs: 1 }).foreachBatch((batch) => {
      batches.push(batchRecords(batch));
    });
    // The receiver stops (to restart) when the server ends the stream: by then all is stored.
    const firstEnd = nextEvent(ctx, "onReceiverStopped");
    await ctx.start();
    const stopped = await firstEnd;
    expect(stopped.lastErrorMessage).toMatch(/no more data/);
    await nextBatch(ctx, clock);
    expect(batches).toEqual([["hello world", "second line", "without newline"]]);

    const secondEnd = nextEvent(ctx, "onReceiverStopped");
    await secondEnd;
    await nextBatch(ctx, clock);
    await ctx.stop();
    expect(batches).toEqual([
      ["hello world", "second line", "without newline"],
      ["after reconnect"],
    ]);
  });

  it("reports a refused connection through the listener", async () => {
    const port = await listen(() => {});
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const { ctx } = manualContext();
    ctx.socketTextStream("127.0.0.1", port, { restartDelayMs: 60_000 }).foreachBatch(() => {});
    const stopped = nextEvent(ctx, "onReceiverStopped");
    await ctx.start();
    const info = await stopped;
    expect(info.lastErrorMessage).toMatch(/error receiving data from 127\.0\.0\.1/);
    expect(info.lastError).toMatchObject({ code: "ECONNREFUSED" });
    await ctx.stop();
  });

  it("rejects a bad port", () => {
    const { ctx } = manualContext();
    expect(() => ctx.socketTextStream("localhost", 70_000)).toThrowError(
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

  it("reads the lines of files moved in since the last batch, one partition per file", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-files-"));
    const [watched, staging] = [join(root, "in"), join(root, "staging")];
    await mkdir(watched);
    await mkdir(staging);
    await writeFile(join(watched, "old.txt"), "present before start\n");
    const { ctx, clock } = manualContext();
    const batches: string[][][] = [];
    ctx.textFileStream(watched).foreachBatch((batch) => {
      batches.push(batch.partitions.map((partition) => [...partition]));
    });
    await ctx.start();

    await moveIn(staging, watched, "b.txt", "b1\nb2\n");
    await moveIn(staging, watched, "a.txt", "a1\r\na2");
    await writeFile(join(watched, ".c.txt.tmp"), "being written");
    await nextBatch(ctx, clock);
    await nextBatch(ctx, clock);
    await moveIn(staging, watched, "d.txt", "d1\n");
    await nextBatch(ctx, clock);
    await ctx.stop();

    expect(batches).toEqual([
      [
        ["a1", "a2"],
        ["b1", "b2"],
      ],
      [],
      [["d1"]],
    ]);
  });

  it("reads files already there with newFilesOnly: false, and survives a missing directory", async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-files-"));
    await writeFile(join(root, "old.txt"), "x\n");
    const { ctx, clock } = manualContext();
    const seen: string[][] = [];
    const missing: string[][] = [];
    ctx.textFileStream(root, { newFilesOnly: false }).foreachBatch((batch) => {
      seen.push(batchRecords(batch));
    });
    ctx.textFileStream(join(root, "nowhere")).foreachBatch((batch) => {
      missing.push(batchRecords(batch));
    });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on("warning", onWarning);
    try {
      await ctx.start();
      await nextBatch(ctx, clock);
      await ctx.stop();
      await turn();
    } finally {
      process.off("warning", onWarning);
    }
    expect(seen).toEqual([["x"]]);
    expect(missing).toEqual([[]]);
    expect(warnings.some((message) => /could not list .*nowhere/.test(message))).toBe(true);
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
