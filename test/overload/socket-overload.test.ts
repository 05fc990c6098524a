import { once } from "node:events";
import { createServer, type Server } from "node:net";
import { type SourceInputDStream, StreamingContext } from "sluice";
import { afterEach, describe, expect, it } from "vitest";
import { lineOf, measureOverload, stopWhenDrained } from "./overload-harness.js";

const RECORDS = 300_000;
const LINE_BYTES = 200; // 60 MB sent in all, far above what the queue may hold
const MAX_BUFFERED = 10_000; // 2 MB of lines

let server: Server | undefined;
afterEach(async () => {
  server?.close();
  server = undefined;
});

/** A TCP server that sends every line as fast as the connection takes them, then closes. */
async function floodingServer(): Promise<number> {
  server = createServer(async (socket) => {
    socket.on("error", () => undefined);
    const chunk = 500;
    for (let start = 0; start < RECORDS; start += chunk) {
      let text = "";
      for (let index = start; index < Math.min(RECORDS, start + chunk); index++) {
        text += lineOf(index, LINE_BYTES);
      }
      // TCP flow control: wait while the client does not read.
      if (!socket.write(text)) await once(socket, "drain");
    }
    socket.end();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

describe("socket source under overload", () => {
  it("holds at most maxBufferedRecords and a bounded heap, and processes every line once", async () => {
    const port = await floodingServer();
    const ctx = new StreamingContext({ batchInterval: 200, defaultParallelism: 1 });
    const input = ctx.source(
      "socket",
      { host: "127.0.0.1", port, onServerClose: "end", maxBufferedRecords: 5_000 },
      { maxBufferedRecords: MAX_BUFFERED },
    ) as SourceInputDStream;
    // 10 µs a record: at most 100 000 records a second, a fraction of what the server sends.
    const run = measureOverload(ctx, input, RECORDS, 10);
    await ctx.start();
    try {
      await stopWhenDrained(ctx, 18_000);
    } finally {
      run.stop();
      await ctx.stop();
    }
    expect(run.processed()).toBe(RECORDS);
    expect(run.seen.every((count) => count === 1)).toBe(true);
    expect(run.maxQueuedRecords()).toBeGreaterThan(0);
    expect(run.maxQueuedRecords()).toBeLessThanOrEqual(MAX_BUFFERED);
    // 60 MB went through; the live heap never held a third of it (the queue is about 2 MB of
    // lines, several times that as records, strings and batches).
    expect(run.maxHeapGrowth()).toBeLessThan(20 * 1024 * 1024);
  }, 20_000);
});
