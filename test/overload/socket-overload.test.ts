import { once } from "node:events";
import { createServer, type Server } from "node:net";
import type { SourceInputDStream } from "sluice/advanced";
import { afterEach } from "vitest";
import {
  describeOverload,
  lineOf,
  type OverloadBounds,
  type OverloadMeasurements,
  overloadContext,
  runOverload,
} from "./overload-harness.js";

// The job processes 10 000 records a second (100 µs each); the server sends 60 000 lines of
// 200 bytes as fast as TCP takes them, many times that rate, so intake must be held back.
const bounds: OverloadBounds = {
  records: 60_000,
  maxBufferedRecords: 10_000, // 2 MB of lines
  // 12 MB go through; the live heap never holds all of it (the queue is about 2 MB of lines,
  // several times that as records, strings and batches).
  maxHeapGrowthBytes: 20 * 1024 * 1024,
  batchIntervalMs: 200,
  settleBatches: 10,
};
const LINE_BYTES = 200;
const COST_MICROS_PER_RECORD = 100;

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
    for (let start = 0; start < bounds.records; start += chunk) {
      let text = "";
      for (let index = start; index < Math.min(bounds.records, start + chunk); index++) {
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

async function overload(backpressure: boolean): Promise<OverloadMeasurements> {
  const port = await floodingServer();
  const ctx = overloadContext(bounds, backpressure);
  const input = ctx.source(
    "socket",
    { host: "127.0.0.1", port, onServerClose: "end", maxBufferedRecords: 5_000 },
    { maxBufferedRecords: bounds.maxBufferedRecords },
  ) as SourceInputDStream;
  return runOverload(
    { ctx, input, costMicrosPerRecord: COST_MICROS_PER_RECORD, until: "input-end" },
    bounds,
  );
}

describeOverload({ source: "socket", record: "line", bounds, overload });
