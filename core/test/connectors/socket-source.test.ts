import { createServer } from "node:net";
import type { SourceRecord } from "sluice";
import { describe, expect, it } from "vitest";
import { DEADLINE_MS, socketSourceHarness } from "./socket-source-harness.js";

const socket = socketSourceHarness();
const openSource = socket.openSource;

type OpenSource = Awaited<ReturnType<typeof openSource>>;

async function readRecords(source: OpenSource, count: number): Promise<SourceRecord[]> {
  const received: SourceRecord[] = [];
  const signal = AbortSignal.timeout(DEADLINE_MS);
  while (received.length < count) {
    const result = await source.read(signal);
    received.push(...result.records);
    await result.ack();
  }
  return received;
}

const texts = (records: readonly SourceRecord[]) =>
  records.map((record) => new TextDecoder().decode(record.value));

describe("socket source", () => {
  it("splits lines across chunks, drops \\r, and numbers records per connection peer", async () => {
    const source = await openSource({ onServerClose: "end" });
    socket.server.sendRaw("al");
    socket.server.sendRaw("pha\r\nbeta\n\ngam");
    socket.server.sendRaw("ma");
    socket.server.endClients();
    const records = await readRecords(source, 4);
    expect(texts(records)).toEqual(["alpha", "beta", "", "gamma"]);
    expect(records.map((record) => record.offset)).toEqual(["0", "1", "2", "3"]);
    expect(new Set(records.map((record) => record.partition))).toEqual(
      new Set([`127.0.0.1:${socket.server.port}`]),
    );
  });

  it("gives the same lines however the bytes are cut into chunks", async () => {
    const source = await openSource({ onServerClose: "end" });
    const lines = Array.from({ length: 300 }, (_, i) =>
      i % 7 === 0 ? "" : `${"é".repeat(i % 3)}w${i}${i % 5 === 0 ? "\r" : ""}x`,
    );
    const bytes = Buffer.from(lines.map((line, i) => `${line}${i % 2 ? "\r\n" : "\n"}`).join(""));
    // Pieces of 1 to 9 bytes: a line, a \r\n or a character is cut at every place somewhere.
    for (let at = 0, size = 1; at < bytes.length; at += size, size = (size % 9) + 1) {
      socket.server.sendRaw(bytes.subarray(at, at + size));
    }
    socket.server.endClients();
    expect(texts(await readRecords(source, lines.length))).toEqual(lines);
  });

  it("loses nothing when it buffers more than maxBufferedRecords and pauses the socket", async () => {
    const source = await openSource({ maxBufferedRecords: 5, maxRecordsPerRead: 3 });
    const lines = Array.from({ length: 60 }, (_, index) => `line-${index}`);
    socket.server.sendRaw(lines.map((line) => `${line}\n`).join(""));
    expect(texts(await readRecords(source, 60))).toEqual(lines);
  });

  it("keeps every line intact over many reads into its one read buffer, paused and resumed", async () => {
    // Megabytes of lines from 0 to 5000 bytes (many longer than a read, some ending in \r\n),
    // sent at once: reads overwrite the same buffer while lines span them and flow control
    // pauses the socket, so a line kept as a view of that buffer would come out wrong.
    const source = await openSource({ onServerClose: "end", maxBufferedRecords: 50 });
    const lines = Array.from({ length: 2000 }, (_, i) =>
      `${i}:`.padEnd((i * 7919) % 5000, String.fromCharCode(97 + (i % 26))),
    );
    socket.server.sendRaw(lines.map((line, i) => `${line}${i % 3 === 0 ? "\r\n" : "\n"}`).join(""));
    socket.server.endClients();
    const received = texts(await readRecords(source, lines.length));
    expect(received.length).toBe(lines.length);
    expect(received.findIndex((line, i) => line !== lines[i])).toBe(-1);
  });

  it("reports a line longer than maxLineBytes", async () => {
    const source = await openSource({ maxLineBytes: 10 });
    socket.server.sendRaw("short\nthis line is far too long");
    expect(texts(await readRecords(source, 1))).toEqual(["short"]);
    await expect(source.read(AbortSignal.timeout(DEADLINE_MS))).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining("longer than maxLineBytes (10)"),
    });
  });

  it("passes on the last line of a connection the server ends, not of one that is lost", async () => {
    const ended = await openSource({ onServerClose: "end" });
    socket.server.sendRaw("whole\nlast, with no newline");
    expect(texts(await readRecords(ended, 1))).toEqual(["whole"]);
    socket.server.endClients();
    expect(texts(await readRecords(ended, 1))).toEqual(["last, with no newline"]);

    const lost = await openSource();
    socket.server.sendRaw("whole again\nhalf a li");
    expect(texts(await readRecords(lost, 1))).toEqual(["whole again"]);
    // A reset, as a crashing server sends: what came of the last line is only its start.
    socket.server.dropClients();
    await expect(lost.read(AbortSignal.timeout(DEADLINE_MS))).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining("was lost"),
    });
  });

  it("is not connected while nothing listens on the port", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const source = socket.registry.createSource("socket", { host: "127.0.0.1", port }).connector;
    await expect(source.connect(AbortSignal.timeout(DEADLINE_MS))).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining(`cannot connect to 127.0.0.1:${port}`),
    });
    await expect(source.read(AbortSignal.timeout(DEADLINE_MS))).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
    });
  });
});
