import { z } from "zod";
import { timerMs } from "../../connector/config-validation.js";

/** The config of the built-in `socket` source. */
export const socketSourceConfig = z.strictObject({
  host: z.string().min(1).describe("the host of the TCP server that sends lines, e.g. 127.0.0.1"),
  port: z.int().min(1).max(65_535).describe("the TCP port of that server"),
  maxLineBytes: z
    .int()
    .min(1)
    .default(1024 * 1024)
    .describe("a longer line is an error"),
  maxBufferedRecords: z
    .int()
    .min(1)
    .default(10_000)
    .describe("received lines held before the socket is paused (backpressure)"),
  maxBufferedBytes: z
    .int()
    .min(1)
    .default(64 * 1024 * 1024)
    .describe("bytes of received lines held before the socket is paused (backpressure)"),
  maxRecordsPerRead: z.int().min(1).default(1_000).describe("at most this many records per read"),
  connectTimeoutMs: timerMs(1)
    .default(10_000)
    .describe("give up one connection attempt after this"),
  onServerClose: z
    .enum(["reconnect", "end"])
    .default("reconnect")
    .describe(
      'when the server closes the connection: "reconnect" (with backoff) or "end" the input',
    ),
});

/** The parsed config of the `socket` source. */
export type SocketSourceConfig = z.output<typeof socketSourceConfig>;
