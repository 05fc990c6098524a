import type { Socket } from "node:net";
import type { SourceRecord } from "sluice";
import { ConfigValidationError } from "sluice/connector";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReceivedLines } from "../../src/connectors/socket/received-lines.js";
import { DEADLINE_MS, socketSourceHarness, watchSockets, within } from "./socket-source-harness.js";

/** The most one read from the socket hands the source (its read buffer). */
const READ_BUFFER_BYTES = 256 * 1024;

const socket = socketSourceHarness();
const openSource = socket.openSource;
afterEach(() => {
  vi.restoreAllMocks();
});

type OpenSource = Awaited<ReturnType<typeof openSource>>;

const texts = (records: readonly SourceRecord[]) =>
  records.map((record) => new TextDecoder().decode(record.value));

async function readAll(source: OpenSource, count: number, into: SourceRecord[]): Promise<void> {
  const signal = AbortSignal.timeout(DEADLINE_MS);
  while (into.length < count) {
    const result = await source.read(signal);
    into.push(...result.records);
    await result.ack();
  }
}

describe("socket source maxBufferedBytes", () => {
  it("pauses the socket at maxBufferedBytes with few lines held, resumes under half, loses nothing", async () => {
    const maxBufferedBytes = 100_000;
    const lineBytes = 10_000; // with its newline
    const lines = Array.from({ length: 200 }, (_, i) =>
      `${i}:`.padEnd(lineBytes - 1, String.fromCharCode(97 + (i % 26))),
    );
    const sockets = watchSockets();
    // maxBufferedRecords stays at 10 000: only the byte bound can pause the socket here.
    const source = await openSource({ maxBufferedBytes });
    socket.server.sendRaw(lines.map((line) => `${line}\n`).join(""));
    const client = await within(sockets.paused, "the socket was not paused");

    // Paused: nothing arrives any more. Take one line at a time until a read resumes the socket,
    // then at once (no I/O can run in between) take the lines it still holds.
    const signal = AbortSignal.timeout(DEADLINE_MS);
    const received: SourceRecord[] = [];
    let stillHeld: readonly SourceRecord[] | undefined;
    while (stillHeld === undefined) {
      const result = await source.read(signal, { maxRecords: 1 });
      const rest =
        sockets.resumesOf(client) > 0 ? source.read(signal, { maxRecords: 10_000 }) : undefined;
      expect(result.records).toHaveLength(1);
      received.push(...result.records);
      await result.ack();
      if (rest !== undefined) {
        const taken = await rest;
        stillHeld = taken.records;
        received.push(...stillHeld);
        await taken.ack();
      }
    }
    const heldAtPause = received.length * (lineBytes - 1);
    // Paused once the held bytes reached the bound, within one read from the socket past it.
    expect(heldAtPause).toBeGreaterThanOrEqual(maxBufferedBytes);
    expect(heldAtPause).toBeLessThan(maxBufferedBytes + READ_BUFFER_BYTES + lineBytes);
    // Resumed by the first read that left fewer than half the bytes, not before.
    expect(stillHeld.length * (lineBytes - 1)).toBeLessThan(maxBufferedBytes / 2);
    expect((stillHeld.length + 1) * (lineBytes - 1)).toBeGreaterThanOrEqual(maxBufferedBytes / 2);

    await readAll(source, lines.length, received);
    expect(received.length).toBe(lines.length);
    expect(texts(received).findIndex((line, i) => line !== lines[i])).toBe(-1);
    // 2 MB through a 100 kB bound: paused and resumed again and again.
    expect(sockets.resumesOf(client)).toBeGreaterThan(5);
  });

  it("starts a new connection paused while the lines held are still over the bound", async () => {
    const maxBufferedBytes = 100_000;
    const lines = Array.from({ length: 40 }, (_, i) => `${i}:`.padEnd(9_999, "x"));
    const sockets = watchSockets();
    const source = await openSource({ maxBufferedBytes });
    socket.server.sendRaw(lines.map((line) => `${line}\n`).join(""));
    const first = await within(sockets.paused, "the socket was not paused");
    // The connection is lost with the held lines over the bound, and made again.
    const closed = new Promise((resolve) => first.once("close", resolve));
    first.destroy();
    await within(closed, "the connection was not closed");
    await source.connect(AbortSignal.timeout(DEADLINE_MS));
    const second = sockets.pausedSockets().find((paused) => paused !== first);
    // Paused at once, before the server sends anything on it.
    expect(second).toBeDefined();
    expect(sockets.resumesOf(second as Socket)).toBe(0);
    // The held lines are read; once under half, the new connection is resumed.
    const received: SourceRecord[] = [];
    const signal = AbortSignal.timeout(DEADLINE_MS);
    while (sockets.resumesOf(second as Socket) === 0) {
      const result = await source.read(signal, { maxRecords: 1 });
      received.push(...result.records);
      await result.ack();
    }
    expect(received.length).toBeGreaterThan(0);
    expect(texts(received).every((line, i) => line === lines[i])).toBe(true);
  });

  it("defaults to 64 MiB", () => {
    const instance = socket.registry.createSource("socket", {
      host: "127.0.0.1",
      port: socket.server.port,
    });
    expect(instance.config).toMatchObject({ maxBufferedBytes: 64 * 1024 * 1024 });
  });

  it.each([0, -1, 1.5, "64MiB"])("refuses maxBufferedBytes %j with a typed config error", (bad) => {
    let error: unknown;
    try {
      socket.registry.createSource("socket", {
        host: "127.0.0.1",
        port: socket.server.port,
        maxBufferedBytes: bad,
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const invalid = error as ConfigValidationError;
    expect(invalid.code).toBe("SLUICE_INVALID_CONFIG");
    expect(invalid.issues.map((issue) => issue.path)).toEqual(["maxBufferedBytes"]);
    expect(invalid.issues[0]?.hint).toBe(
      "Bytes of received lines held before the socket is paused (backpressure).",
    );
    expect(invalid.message).toContain('Invalid config for source "socket" (1 problem)');
  });
});

describe("ReceivedLines byteLength", () => {
  it("counts the bytes of the lines held, without newlines, through takes and compaction", () => {
    const encoder = new TextEncoder();
    const received = new ReceivedLines("p");
    const held: number[] = [];
    const sum = () => held.reduce((total, bytes) => total + bytes, 0);
    expect(received.byteLength).toBe(0);
    for (let round = 0; round < 200; round++) {
      // A chunk of lines ending in \n or \r\n, some empty, and one line appended in parts.
      const chunkLines = Array.from({ length: round % 9 }, (_, i) => "x".repeat((round * i) % 700));
      const chunk = encoder.encode(
        chunkLines.map((line, i) => `${line}${i % 2 ? "\r\n" : "\n"}`).join(""),
      );
      received.appendLines(chunk, 0, chunk.length, 1);
      held.push(...chunkLines.map((line) => line.length));
      const parts = [encoder.encode("ab"), encoder.encode("y".repeat(round * 37))];
      received.append(parts, 1);
      held.push(2 + round * 37);
      expect(received.byteLength).toBe(sum());
      // Take some lines now and then, so later appends compact or grow the buffer.
      const take = round % 3 === 0 ? held.length : round % 4;
      const taken = received.take(take);
      expect(taken.bytes.length).toBe(held.splice(0, take).reduce((a, b) => a + b, 0));
      expect(received.byteLength).toBe(sum());
      expect(received.length).toBe(held.length);
    }
  });
});
