import type { SourceRecord } from "sluice";
import type { ReadResult } from "sluice/connector";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ReceivedLines } from "../../src/connectors/socket/received-lines.js";
import { DEADLINE_MS, socketSourceHarness, watchSockets, within } from "./socket-source-harness.js";

const NEWLINE = 0x0a;

const socket = socketSourceHarness();
afterEach(() => {
  vi.restoreAllMocks();
});

type OpenSource = Awaited<ReturnType<typeof socket.openSource>>;

const texts = (records: readonly SourceRecord[]) =>
  records.map((record) => new TextDecoder().decode(record.value));

/**
 * Counts the lines the socket source takes in from its connection (`ReceivedLines`), so a test
 * can wait until lines sent have arrived without reading them.
 */
function watchArrivals() {
  let arrived = 0;
  let waiting: { count: number; resolve: () => void } | undefined;
  const note = (lines: number) => {
    arrived += lines;
    if (waiting !== undefined && arrived >= waiting.count) waiting.resolve();
  };
  const appendLines = ReceivedLines.prototype.appendLines;
  vi.spyOn(ReceivedLines.prototype, "appendLines").mockImplementation(function (
    this: ReceivedLines,
    chunk,
    start,
    end,
    timeMs,
  ) {
    appendLines.call(this, chunk, start, end, timeMs);
    let lines = 0;
    for (let i = start; i < end; i++) if (chunk[i] === NEWLINE) lines++;
    note(lines);
  });
  const append = ReceivedLines.prototype.append;
  vi.spyOn(ReceivedLines.prototype, "append").mockImplementation(function (
    this: ReceivedLines,
    parts,
    timeMs,
  ) {
    append.call(this, parts, timeMs);
    note(1);
  });
  return {
    /** Resolves once `count` lines in all have arrived. */
    until: (count: number) =>
      within(
        new Promise<void>((resolve) => {
          waiting = { count, resolve };
          if (arrived >= count) resolve();
        }),
        `${count} lines did not arrive`,
      ),
  };
}

/** Reads until `count` lines came, keeping every result unacknowledged. */
async function readUnacknowledged(source: OpenSource, count: number): Promise<ReadResult[]> {
  const signal = AbortSignal.timeout(DEADLINE_MS);
  const results: ReadResult[] = [];
  let lines = 0;
  while (lines < count) {
    const result = await source.read(signal);
    results.push(result);
    lines += result.records.length;
  }
  expect(lines).toBe(count);
  return results;
}

async function readAll(source: OpenSource, count: number): Promise<string[]> {
  const signal = AbortSignal.timeout(DEADLINE_MS);
  const lines: string[] = [];
  while (lines.length < count) {
    const result = await source.read(signal);
    lines.push(...texts(result.records));
    await result.ack();
  }
  return lines;
}

/**
 * The source holds `first` unacknowledged and `second` received (not yet read), both under the
 * bound; then the batch of `first` fails. Returns the lines read one at a time until the
 * socket, paused by that nack, is resumed, and then the rest.
 */
async function nackThenDrain(config: object, first: string[], second: string[]) {
  const sockets = watchSockets();
  const arrivals = watchArrivals();
  const source = await socket.openSource(config);
  socket.server.sendRaw(first.map((line) => `${line}\n`).join(""));
  const unacknowledged = await readUnacknowledged(source, first.length);
  socket.server.sendRaw(second.map((line) => `${line}\n`).join(""));
  await arrivals.until(first.length + second.length);
  expect(sockets.pausedSockets()).toHaveLength(0);

  for (const result of unacknowledged) await result.ack(new Error("the batch failed"));
  // The lines handed back count toward the bound: the nack itself pauses the socket.
  const client = await within(sockets.paused, "the socket was not paused");
  expect(sockets.pausedSockets()).toEqual([client]);

  const signal = AbortSignal.timeout(DEADLINE_MS);
  const untilResumed: string[] = [];
  while (sockets.resumesOf(client) === 0) {
    const result = await source.read(signal, { maxRecords: 1 });
    expect(result.records).toHaveLength(1);
    untilResumed.push(...texts(result.records));
    await result.ack();
  }
  const rest = await readAll(source, first.length + second.length - untilResumed.length);
  return { untilResumed, rest };
}

describe("socket source bounds count the lines a failed batch handed back", () => {
  it("maxBufferedRecords: paused by the nack, resumed under half, every line once", async () => {
    const first = Array.from({ length: 60 }, (_, i) => `first-${i}`);
    const second = Array.from({ length: 60 }, (_, i) => `second-${i}`);
    // 60 handed back + 60 received = 120 held, over 100, though each part alone is under it.
    const { untilResumed, rest } = await nackThenDrain({ maxBufferedRecords: 100 }, first, second);
    // The handed-back lines come first; resumed once fewer than 50 are held: after the 60
    // handed back and 11 of the others.
    expect(untilResumed).toEqual([...first, ...second.slice(0, 11)]);
    expect(rest).toEqual(second.slice(11));
  });

  it("resumes while the handed-back lines are still being read, once under half", async () => {
    const first = Array.from({ length: 60 }, (_, i) => `first-${i}`);
    const second = Array.from({ length: 45 }, (_, i) => `second-${i}`);
    // 105 held; under 50 after 56 of the lines handed back.
    const { untilResumed, rest } = await nackThenDrain({ maxBufferedRecords: 100 }, first, second);
    expect(untilResumed).toEqual(first.slice(0, 56));
    expect(rest).toEqual([...first.slice(56), ...second]);
  });

  it("counts lines handed back a second time (a batch of redelivered lines failing again)", async () => {
    const first = Array.from({ length: 60 }, (_, i) => `first-${i}`);
    const second = Array.from({ length: 60 }, (_, i) => `second-${i}`);
    const sockets = watchSockets();
    const arrivals = watchArrivals();
    const source = await socket.openSource({ maxBufferedRecords: 100 });
    socket.server.sendRaw(first.map((line) => `${line}\n`).join(""));
    for (const result of await readUnacknowledged(source, first.length)) {
      await result.ack(new Error("the batch failed"));
    }
    // Read again, and still unacknowledged while the next lines arrive: 60 held.
    const again = await readUnacknowledged(source, first.length);
    expect(again.flatMap((result) => texts(result.records))).toEqual(first);
    socket.server.sendRaw(second.map((line) => `${line}\n`).join(""));
    await arrivals.until(first.length + second.length);
    expect(sockets.pausedSockets()).toHaveLength(0);
    // Failing again hands them back again: 120 held, and the socket pauses.
    for (const result of again) await result.ack(new Error("the batch failed again"));
    const client = await within(sockets.paused, "the socket was not paused");
    expect(sockets.resumesOf(client)).toBe(0);
    expect(await readAll(source, first.length + second.length)).toEqual([...first, ...second]);
    expect(sockets.resumesOf(client)).toBe(1);
  });

  it("maxBufferedBytes: paused by the nack, resumed under half, every line once", async () => {
    const lineOf = (tag: string, i: number) => `${tag}-${i}:`.padEnd(999, "x");
    const first = Array.from({ length: 30 }, (_, i) => lineOf("first", i));
    const second = Array.from({ length: 30 }, (_, i) => lineOf("second", i));
    // maxBufferedRecords stays at 10 000: only the bytes can pause the socket. 29 970 bytes
    // handed back + 29 970 received, over 50 000.
    const { untilResumed, rest } = await nackThenDrain({ maxBufferedBytes: 50_000 }, first, second);
    // Resumed once fewer than 25 000 bytes are held: after the 30 lines handed back and 5
    // others (25 lines of 999 bytes left: 24 975).
    expect(untilResumed).toEqual([...first, ...second.slice(0, 5)]);
    expect(rest).toEqual(second.slice(5));
  });
});
