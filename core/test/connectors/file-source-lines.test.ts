// The `lines` format hands each read over as a byte batch (one file's lines as columns); these
// tests check that the columns say exactly what records split line by line would have said.
import { appendFile, mkdir, mkdtemp, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { splitLines } from "../../src/connectors/file/record-splitting.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let root: string;
let registry: ConnectorRegistry;
let folders = 0;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-lines-"));
  registry = createConnectorRegistry({ logger: new LogCapture().logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

/** A fresh watched folder with `files` moved in, and a source reading it from the start. */
async function sourceOver(
  files: Record<string, Uint8Array | string>,
  config: object = {},
  mtimesSeconds: Record<string, number> = {},
) {
  const directory = join(root, `in-${folders++}`);
  await mkdir(directory);
  for (const [name, content] of Object.entries(files)) {
    const hidden = join(root, `.${name}.writing`);
    await writeFile(hidden, content);
    const time = mtimesSeconds[name];
    if (time !== undefined) await utimes(hidden, time, time);
    await rename(hidden, join(directory, name));
  }
  const source = registry.createSource("file", {
    directory,
    pollIntervalMs: 20,
    startAt: "earliest",
    ...config,
  }).connector;
  await source.connect(AbortSignal.timeout(5_000));
  return { source, directory };
}

type Source = Awaited<ReturnType<typeof sourceOver>>["source"];

/** The next read that holds records (acknowledged). */
async function nextRead(source: Source): Promise<ReadResult> {
  const signal = AbortSignal.timeout(5_000);
  for (;;) {
    const result = await source.read(signal);
    if (result.records.length > 0 || signal.aborted) {
      await result.ack();
      return result;
    }
    await result.ack();
  }
}

/** What records split line by line say of `bytes`: each value and the offset after it. */
function expectedLines(bytes: Uint8Array): { values: string[]; offsets: string[] } {
  const raw = splitLines(bytes, true);
  return {
    values: raw.map((record) => decoder.decode(record.bytes)),
    offsets: raw.map((record) => String(record.end)),
  };
}

const line = fc.string({ maxLength: 20, unit: "grapheme" }).filter((text) => !/[\r\n]/.test(text));

describe("file source, lines format", () => {
  it("hands each read over as columns equal to the lines split one by one", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(line, fc.constantFrom("\n", "\r\n")), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 25 }),
        async (lines, lastEnded, maxRecordsPerRead) => {
          let text = lines.map(([content, ending]) => content + ending).join("");
          if (!lastEnded) text += "tail é";
          const bytes = encoder.encode(text);
          const { source, directory } = await sourceOver({ "a.txt": bytes }, { maxRecordsPerRead });
          const { mtimeMs } = await stat(join(directory, "a.txt"));
          const expected = expectedLines(bytes);
          const values: string[] = [];
          const offsets: string[] = [];
          while (values.length < expected.values.length) {
            const result = await nextRead(source);
            const columns = result.columns;
            expect(columns).toBeDefined();
            if (columns === undefined) return;
            expect(columns.length).toBeLessThanOrEqual(maxRecordsPerRead);
            expect(columns.partition).toBe("a.txt");
            expect(columns.timestampAt(0)).toBe(mtimeMs);
            for (let row = 0; row < columns.length; row++) {
              const { keys, offsets: ends } = columns.values;
              values.push(decoder.decode(keys.subarray(ends[row], ends[row + 1])));
              offsets.push(columns.offsetAt(row));
            }
            // The records made from the columns say the same.
            expect(result.records.map((r) => r.offset)).toEqual(
              offsets.slice(offsets.length - columns.length),
            );
          }
          expect(values).toEqual(expected.values);
          expect(offsets).toEqual(expected.offsets);
          await source.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it("joins the chunks of a read that spans several, and sizes the next reads' chunks", async () => {
    // About 400 KB of lines of 0 to 80 bytes (CRLF or LF, multi-byte characters), read in reads
    // of up to 3,000 lines: several 64 KiB chunks per read at first, then larger chunks.
    const parts: string[] = [];
    for (let i = 0; i < 12_000; i++) {
      const body = "é".repeat(i % 7) + "w".repeat((i * 37) % 67);
      parts.push(body + (i % 5 === 0 ? "\r\n" : "\n"));
    }
    const bytes = encoder.encode(parts.join(""));
    const { source } = await sourceOver({ "big.txt": bytes }, { maxRecordsPerRead: 3_000 });
    const expected = expectedLines(bytes);
    const values: string[] = [];
    const offsets: string[] = [];
    while (values.length < expected.values.length) {
      const result = await nextRead(source);
      expect(result.columns?.length).toBe(Math.min(3_000, expected.values.length - values.length));
      values.push(...result.records.map((r) => decoder.decode(r.value)));
      offsets.push(...result.records.map((r) => r.offset));
    }
    expect(values).toEqual(expected.values);
    expect(offsets).toEqual(expected.offsets);
  });

  it("hands out lines that keep alive no more than twice their read's bytes", async () => {
    // Reads of 10 short lines each: a read takes a sliver of its 64 KiB chunk, and a record held
    // in a window or in state would otherwise keep the whole chunk alive.
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${String(i).padStart(8, "0")}\n`);
    const { source } = await sourceOver({ "many.txt": lines.join("") }, { maxRecordsPerRead: 10 });
    // The first read (no estimate of the line length yet), and one sized from the read before.
    for (let read = 0; read < 2; read++) {
      const result = await nextRead(source);
      expect(result.records.map((r) => decoder.decode(r.value))).toEqual(
        lines.slice(read * 10, read * 10 + 10).map((text) => text.trimEnd()),
      );
      const readBytes = result.records.reduce((sum, r) => sum + r.value.byteLength, 0);
      for (const record of result.records) {
        expect(record.value.buffer.byteLength).toBeLessThanOrEqual(2 * readBytes);
      }
    }
    // A read that fills its chunk hands the chunk itself over (no copy): the blob is a view
    // that starts at the chunk's first byte.
    const whole = await sourceOver({ "one.txt": "alpha\nbeta\n" });
    const result = await nextRead(whole.source);
    expect(result.records.map((r) => r.value.byteOffset)).toEqual([0, 5]);
    expect(result.records[0]?.value.buffer.byteLength).toBe("alpha\nbeta\n".length);
  });

  it("keeps empty lines, CRLF endings and a last line without a newline", async () => {
    const text = "é€\r\n\n\r\nx\ry\nlast";
    const { source } = await sourceOver({ "a.txt": text });
    const result = await nextRead(source);
    expect(result.columns?.length).toBe(5);
    expect(result.records.map((r) => decoder.decode(r.value))).toEqual([
      "é€",
      "",
      "",
      "x\ry",
      "last",
    ]);
    expect(result.records.map((r) => r.offset)).toEqual(
      expectedLines(encoder.encode(text)).offsets,
    );
  });

  it("reads on where it stopped in a file appended to between reads", async () => {
    const { source, directory } = await sourceOver(
      { "a.txt": "1\n2\n3\n4\n" },
      { maxRecordsPerRead: 3 },
    );
    const first = await nextRead(source);
    expect(first.records.map((r) => r.offset)).toEqual(["2", "4", "6"]);
    await appendFile(join(directory, "a.txt"), "5\r\n66\n");
    const values: string[] = [];
    const offsets: string[] = [];
    while (values.length < 3) {
      const result = await nextRead(source);
      expect(result.columns).toBeDefined();
      values.push(...result.records.map((r) => decoder.decode(r.value)));
      offsets.push(...result.records.map((r) => r.offset));
    }
    expect(values).toEqual(["4", "5", "66"]);
    expect(offsets).toEqual(["8", "11", "14"]);
  });

  it("hands one file per read, oldest file first", async () => {
    const { source } = await sourceOver(
      { "a.txt": "a1\na2\n", "z.txt": "z1\n" },
      {},
      { "a.txt": 2_000_000, "z.txt": 1_000_000 },
    );
    const first = await nextRead(source);
    const second = await nextRead(source);
    expect(first.columns?.partition).toBe("z.txt");
    expect(first.records.map((r) => decoder.decode(r.value))).toEqual(["z1"]);
    expect(second.columns?.partition).toBe("a.txt");
    expect(second.records.map((r) => decoder.decode(r.value))).toEqual(["a1", "a2"]);
  });

  it("delivers nacked lines again, before anything new", async () => {
    const { source } = await sourceOver({ "a.txt": "1\n2\n3\n" }, { maxRecordsPerRead: 2 });
    const signal = AbortSignal.timeout(5_000);
    let first = await source.read(signal);
    while (first.records.length === 0) {
      await first.ack();
      first = await source.read(signal);
    }
    await first.ack(new Error("the batch failed"));
    const again = await nextRead(source);
    expect(again.records.map((r) => [decoder.decode(r.value), r.offset])).toEqual([
      ["1", "2"],
      ["2", "4"],
    ]);
    const rest = await nextRead(source);
    expect(rest.records.map((r) => r.offset)).toEqual(["6"]);
  });

  it("skips a line over maxRecordBytes within a read and keeps the lines around it", async () => {
    const long = "x".repeat(2_000);
    const { source } = await sourceOver(
      { "a.txt": `a\n${long}\nb\n` },
      { maxRecordBytes: 1_024, onInvalidRecord: "skip" },
    );
    const result = await nextRead(source);
    expect(result.columns).toBeDefined();
    expect(result.records.map((r) => [decoder.decode(r.value), r.offset])).toEqual([
      ["a", "2"],
      ["b", String(2 + 2_001 + 2)],
    ]);
  });

  it("under onInvalidRecord: fail, hands over the lines before an over-long one, then stops", async () => {
    const { source } = await sourceOver(
      { "a.txt": `a\n${"x".repeat(2_000)}\nb\n` },
      { maxRecordBytes: 1_024 },
    );
    const first = await nextRead(source);
    expect(first.columns?.length).toBe(1);
    expect(first.records.map((r) => [decoder.decode(r.value), r.offset])).toEqual([["a", "2"]]);
    await expect(source.read(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining(
        'the record in "a.txt" at byte 2 is longer than maxRecordBytes (1024): 2000 bytes',
      ),
    });
  });
});
