// The `binary` format (Spark's binaryRecordsStream): each file's bytes cut every recordLength
// bytes, one file's records per read as a byte batch, the byte after each record as its offset.
import { appendFile, mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import type { SourceRecord } from "sluice";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import type { ReadResult, Source } from "sluice/connector";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SOURCE_DEAD_LETTERS } from "../../src/connector/tokens.js";
import type { DeadLetter } from "../../src/recovery/dead-letters.js";

let root: string;
let registry: ConnectorRegistry;
let logs: LogCapture;
let folders = 0;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-binary-"));
  logs = new LogCapture();
  registry = createConnectorRegistry({ logger: logs.logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

/** A fresh folder with `files` moved in (in this order), and its path. */
async function folderWith(files: Record<string, Uint8Array>): Promise<string> {
  const directory = join(root, `in-${folders++}`);
  await mkdir(directory);
  for (const [name, content] of Object.entries(files)) await moveIn(directory, name, content);
  return directory;
}

async function moveIn(directory: string, name: string, content: Uint8Array): Promise<void> {
  const hidden = join(root, `.${name}.writing`);
  await writeFile(hidden, content);
  await rename(hidden, join(directory, name));
}

/** A binary source over `directory`, reading it from the start, connected. */
async function binarySource(directory: string, recordLength: number, config: object = {}) {
  const source = registry.createSource("file", {
    directory,
    format: "binary",
    recordLength,
    pollIntervalMs: 20,
    startAt: "earliest",
    ...config,
  }).connector;
  await source.connect(AbortSignal.timeout(5_000));
  return source;
}

/** The next read that holds records (acknowledged). */
async function nextRead(source: Source): Promise<ReadResult> {
  const signal = AbortSignal.timeout(5_000);
  for (;;) {
    const result = await source.read(signal);
    await result.ack();
    if (result.records.length > 0) return result;
    if (signal.aborted) throw new Error("no records within 5 s");
  }
}

/** Reads until `count` records came, each as `file:hex@offset`. */
async function readRecords(source: Source, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) out.push(...(await nextRead(source)).records.map(shown));
  return out;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const shown = (record: SourceRecord) => `${record.partition}:${hex(record.value)}@${record.offset}`;

/** `count` bytes counting up from `first` (mod 256), so every cut shows. */
function bytesFrom(first: number, count: number): Uint8Array {
  const bytes = new Uint8Array(count);
  for (let index = 0; index < count; index++) bytes[index] = (first + index) % 256;
  return bytes;
}

/** What cutting `bytes` every `recordLength` bytes gives, as `readRecords` shows it. */
function cut(file: string, bytes: Uint8Array, recordLength: number): string[] {
  const records: string[] = [];
  for (let end = recordLength; end <= bytes.length; end += recordLength) {
    records.push(`${file}:${hex(bytes.subarray(end - recordLength, end))}@${end}`);
  }
  return records;
}

describe("file source, binary format", () => {
  it("cuts each file every recordLength bytes, one file per read, offsets after each record", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 12 }),
        async (recordLength, recordsPerFile, maxRecordsPerRead) => {
          const files: Record<string, Uint8Array> = {};
          recordsPerFile.forEach((records, index) => {
            files[`f${index}.bin`] = bytesFrom(index * 50, records * recordLength);
          });
          const directory = await folderWith(files);
          const source = await binarySource(directory, recordLength, { maxRecordsPerRead });
          const total = recordsPerFile.reduce((sum, records) => sum + records, 0);
          const received: string[] = [];
          while (received.length < total) {
            const result = await nextRead(source);
            // One file's records per read, as columns, never more than the read may take.
            expect(result.columns?.length).toBe(result.records.length);
            expect(result.records.length).toBeLessThanOrEqual(maxRecordsPerRead);
            expect(new Set(result.records.map((record) => record.partition)).size).toBe(1);
            for (const record of result.records) expect(record.value.length).toBe(recordLength);
            received.push(...result.records.map(shown));
          }
          const expected = Object.entries(files).flatMap(([name, bytes]) =>
            cut(name, bytes, recordLength),
          );
          expect([...received].sort()).toEqual([...expected].sort());
          // Within a file, in file order.
          for (const name of Object.keys(files)) {
            const ofFile = received.filter((record) => record.startsWith(`${name}:`));
            expect(ofFile).toEqual(cut(name, files[name] as Uint8Array, recordLength));
          }
          await source.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  it("reads a large file in bounded reads and chunks, never whole", async () => {
    // 36 records of 1 MiB in reads of 18: a 16 MiB chunk (the largest) and a 2 MiB one each.
    const recordLength = 1024 * 1024;
    const bytes = bytesFrom(7, 36 * recordLength);
    const directory = await folderWith({ "big.bin": bytes });
    const source = await binarySource(directory, recordLength, { maxRecordsPerRead: 18 });
    const first = await nextRead(source);
    const second = await nextRead(source);
    for (const [index, result] of [first, second].entries()) {
      expect(result.records.length).toBe(18);
      expect(result.records.at(-1)?.offset).toBe(String((index + 1) * 18 * recordLength));
      // The read holds its records and no more of the file.
      expect(result.columns?.byteLength).toBe(18 * recordLength);
    }
    const values = [...first.records, ...second.records].map((record) => record.value);
    expect(Buffer.concat(values).equals(Buffer.from(bytes))).toBe(true);
  });

  it("completes a record begun before a read stopped, when the file grew meanwhile", async () => {
    // 2 records and 2 bytes of a third; a read of 2 records stops before those 2 bytes.
    const directory = await folderWith({ "a.bin": bytesFrom(0, 10) });
    const source = await binarySource(directory, 4, { maxRecordsPerRead: 2 });
    expect((await nextRead(source)).records.map(shown)).toEqual(cut("a.bin", bytesFrom(0, 8), 4));
    await appendFile(join(directory, "a.bin"), bytesFrom(10, 6));
    expect(await readRecords(source, 2)).toEqual(cut("a.bin", bytesFrom(0, 16), 4).slice(2));
    expect(logs.text()).not.toContain("invalid record");
  });

  it("hands over the whole records before trailing bytes, then fails naming file, byte and length", async () => {
    const directory = await folderWith({ "a.bin": bytesFrom(0, 11) });
    const source = await binarySource(directory, 4);
    expect((await nextRead(source)).records.map(shown)).toEqual(cut("a.bin", bytesFrom(0, 8), 4));
    await expect(source.read(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining(
        'the record in "a.bin" at byte 8 is 3 bytes, short of recordLength (4): the file\'s 11 bytes are not a whole number of records',
      ),
    });
  });

  it("fails at once on a file shorter than one record", async () => {
    const directory = await folderWith({ "tiny.bin": bytesFrom(0, 3) });
    const source = await binarySource(directory, 8);
    await expect(source.read(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining('the record in "tiny.bin" at byte 0 is 3 bytes'),
    });
  });

  it("sends trailing bytes to the dead letters, as base64, under skip and goes on", async () => {
    const letters: DeadLetter[] = [];
    registry.register(SOURCE_DEAD_LETTERS, { capture: (letter) => letters.push(letter) });
    const directory = await folderWith({ "a.bin": bytesFrom(0, 11) });
    const source = await binarySource(directory, 4, { onInvalidRecord: "skip" });
    expect((await nextRead(source)).records.map(shown)).toEqual(cut("a.bin", bytesFrom(0, 8), 4));
    await moveIn(directory, "b.bin", bytesFrom(100, 4));
    expect(await readRecords(source, 1)).toEqual(cut("b.bin", bytesFrom(100, 4), 4));
    expect(letters).toEqual([
      expect.objectContaining({
        errorCode: "SLUICE_INVALID_RECORD",
        source: { partition: "a.bin", offset: "8" },
        record: Buffer.from(bytesFrom(8, 3)).toString("base64"),
        error: expect.stringContaining('"a.bin" at byte 8 is 3 bytes'),
      }),
    ]);
  });

  it("logs trailing bytes it skips without dead letters", async () => {
    const directory = await folderWith({ "a.bin": bytesFrom(0, 6), "b.bin": bytesFrom(50, 4) });
    const source = await binarySource(directory, 4, { onInvalidRecord: "skip" });
    expect((await readRecords(source, 2)).sort()).toEqual(
      [...cut("a.bin", bytesFrom(0, 4), 4), ...cut("b.bin", bytesFrom(50, 4), 4)].sort(),
    );
    const warning = logs
      .text()
      .split("\n")
      .find((line) => line.includes('"msg":"invalid record skipped"'));
    expect(warning && JSON.parse(warning)).toMatchObject({
      file: "a.bin",
      position: 4,
      problem: expect.stringContaining("is 2 bytes, short of recordLength (4)"),
    });
  });

  it("delivers nacked records again, before anything new", async () => {
    const directory = await folderWith({ "a.bin": bytesFrom(0, 12) });
    const source = await binarySource(directory, 4, { maxRecordsPerRead: 2 });
    const signal = AbortSignal.timeout(5_000);
    let first = await source.read(signal);
    while (first.records.length === 0) {
      await first.ack();
      first = await source.read(signal);
    }
    await first.ack(new Error("the batch failed"));
    expect(await readRecords(source, 3)).toEqual(cut("a.bin", bytesFrom(0, 12), 4));
  });

  it("resumes a file exactly after a checkpointed offset in its middle", async () => {
    const bytes = bytesFrom(0, 40);
    const directory = await folderWith({ "a.bin": bytes, "b.bin": bytesFrom(200, 8) });
    const source = registry.createSource("file", {
      directory,
      format: "binary",
      recordLength: 4,
      pollIntervalMs: 20,
    }).connector;
    // a.bin was used up to its third record (byte 12), b.bin not at all.
    await source.seek?.(new Map([["a.bin", "12"]]), { firstRunStartedAtMs: 0 });
    await source.connect(AbortSignal.timeout(5_000));
    expect((await readRecords(source, 9)).sort()).toEqual(
      [...cut("a.bin", bytes, 4).slice(3), ...cut("b.bin", bytesFrom(200, 8), 4)].sort(),
    );
  });

  it("refuses a checkpointed offset that is not a whole number of records", async () => {
    const directory = await folderWith({ "a.bin": bytesFrom(0, 40) });
    const source = registry.createSource("file", {
      directory,
      format: "binary",
      recordLength: 4,
    }).connector;
    await source.seek?.(new Map([["a.bin", "10"]]), { firstRunStartedAtMs: 0 });
    await expect(source.connect(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringContaining(
        'The checkpointed offset of "a.bin" is byte 10, not a whole number of 4-byte records',
      ),
    });
  });

  it("stamps each record with its file's modification time", async () => {
    const directory = await folderWith({ "a.bin": bytesFrom(0, 8) });
    const { mtimeMs } = await stat(join(directory, "a.bin"));
    const source = await binarySource(directory, 4);
    const result = await nextRead(source);
    expect(result.records.map((record) => record.timestampMs)).toEqual([mtimeMs, mtimeMs]);
  });
});

describe("file source, binary format config", () => {
  const paths = (config: object): string[] => {
    try {
      registry.createSource("file", { directory: root, ...config });
    } catch (error) {
      expect(error).toMatchObject({ code: "SLUICE_INVALID_CONFIG" });
      return (error as { issues: { path: string }[] }).issues.map((issue) => issue.path);
    }
    return [];
  };

  it.each([
    ["zero", 0],
    ["negative", -4],
    ["fractional", 2.5],
    ["over 16 MiB", 16 * 1024 * 1024 + 1],
    ["not a number", "16"],
  ])("refuses a recordLength that is %s, naming the field", (_, recordLength) => {
    expect(paths({ format: "binary", recordLength })).toEqual(["recordLength"]);
  });

  it("requires recordLength with format binary, and only there", () => {
    expect(paths({ format: "binary" })).toEqual(["recordLength"]);
    expect(paths({ format: "lines", recordLength: 4 })).toEqual(["recordLength"]);
    expect(paths({ recordLength: 4 })).toEqual(["recordLength"]);
    expect(paths({ format: "binary", recordLength: 16 * 1024 * 1024 })).toEqual([]);
    expect(paths({ format: "binary", recordLength: 1 })).toEqual([]);
  });
});
