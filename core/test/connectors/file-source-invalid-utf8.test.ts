// Bytes that are not UTF-8 in the file source's text formats: a JSON line or CSV row holding
// them is an invalid record (decoding would silently put U+FFFD in their place, and a jsonl sink
// would refuse the record later, failing its whole batch); `lines` hands the bytes on as they are.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SourceRecord } from "sluice";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { firstInvalidUtf8Byte } from "../../src/connectors/file/utf8-validity.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let root: string;
let directory: string;
let registry: ConnectorRegistry;
let logs: LogCapture;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-source-utf8-"));
  directory = join(root, "in");
  await mkdir(directory);
  logs = new LogCapture();
  registry = createConnectorRegistry({ logger: logs.logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

/** The bytes of `parts`: strings as UTF-8, numbers as single raw bytes, byte arrays as they are. */
function bytesOf(...parts: (string | number | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((part) =>
    typeof part === "string"
      ? encoder.encode(part)
      : typeof part === "number"
        ? Uint8Array.of(part)
        : part,
  );
  return Uint8Array.from(chunks.flatMap((chunk) => [...chunk]));
}

/** Writes a file under a hidden name, moves it into the folder, and adds the end marker. */
async function moveIn(name: string, bytes: Uint8Array): Promise<void> {
  const hidden = join(root, `.${name}.writing`);
  await writeFile(hidden, bytes);
  await rename(hidden, join(directory, name));
  await writeFile(join(directory, "_DONE"), "");
}

/** Reads (and acks) until the end marker ends the input; rejects with a read's error. */
async function readAll(config: object): Promise<SourceRecord[]> {
  const source = registry.createSource("file", {
    directory,
    pollIntervalMs: 20,
    startAt: "earliest",
    endMarker: "_DONE",
    ...config,
  }).connector;
  const signal = AbortSignal.timeout(10_000);
  await source.connect(signal);
  const records: SourceRecord[] = [];
  for (;;) {
    let result: Awaited<ReturnType<typeof source.read>>;
    try {
      result = await source.read(signal);
    } catch (error) {
      if ((error as { name?: unknown }).name === "EndOfInputError") return records;
      throw error;
    }
    records.push(...result.records);
    await result.ack();
  }
}

function skippedWarnings(): Record<string, unknown>[] {
  return logs
    .text()
    .split("\n")
    .filter((line) => line.includes('"msg":"invalid record skipped"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("file source: bytes that are not UTF-8", () => {
  // 0xE9 is "é" in Latin-1, the usual way such bytes get into a file.
  const latin1Line = bytesOf('{"name":"caf', 0xe9, '","n":2}\n');

  it("skips a JSON line holding them under skip, naming the file and the byte", async () => {
    await moveIn(
      "a.jsonl",
      bytesOf('{"name":"ok","n":1}\n', latin1Line, '{"name":"café","n":3}\n'),
    );
    const records = await readAll({ format: "jsonl", onInvalidRecord: "skip" });
    expect(records.map((record) => JSON.parse(decoder.decode(record.value)))).toEqual([
      { name: "ok", n: 1 },
      { name: "café", n: 3 },
    ]);
    const [warning, ...more] = skippedWarnings();
    expect(more).toEqual([]);
    // The line starts at byte 20; its byte 12 is the 0xE9.
    expect(warning).toMatchObject({ file: "a.jsonl", position: 20 });
    expect(warning?.problem).toContain("is not valid UTF-8: its byte 12 (byte 32 of the file)");
  });

  it("stops under fail with SLUICE_INVALID_RECORD naming the file and the byte", async () => {
    await moveIn("b.jsonl", latin1Line);
    await expect(readAll({ format: "jsonl" })).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining(
        'the record in "b.jsonl" at byte 0 is not valid UTF-8: its byte 12 (byte 12 of the file)',
      ),
    });
  });

  it("skips a CSV row holding them rather than turning them into U+FFFD", async () => {
    await moveIn("c.csv", bytesOf("id,city\n1,Köln\n2,K", 0xf6, "ln\n3,Genève\n"));
    const records = await readAll({ format: "csv", onInvalidRecord: "skip" });
    expect(records.map((record) => JSON.parse(decoder.decode(record.value)))).toEqual([
      { id: "1", city: "Köln" },
      { id: "3", city: "Genève" },
    ]);
    expect(skippedWarnings()).toHaveLength(1);
  });

  it("refuses a CSV header holding them: no row of the file could be keyed", async () => {
    await moveIn("d.csv", bytesOf("id,gr", 0xf6, "sse\n1,2\n"));
    await expect(readAll({ format: "csv", onInvalidRecord: "skip" })).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining('the header row of "d.csv" is not valid UTF-8 (byte 5'),
    });
  });

  it("hands them on unchanged in lines format, which is bytes", async () => {
    await moveIn("e.txt", bytesOf("caf", 0xe9, "\nok\n"));
    const records = await readAll({ format: "lines" });
    expect(records.map((record) => [...record.value])).toEqual([
      [...bytesOf("caf", 0xe9)],
      [...bytesOf("ok")],
    ]);
  });
});

describe("firstInvalidUtf8Byte", () => {
  it.each([
    ["plain ASCII", bytesOf("abc"), undefined],
    ["two-, three- and four-byte characters", bytesOf("é€😀"), undefined],
    ["a stray continuation byte", bytesOf("a", 0x80, "b"), 1],
    ["a lead byte cut short at the end", bytesOf("ab", 0xe2, 0x82), 2],
    ["a lead byte followed by ASCII", bytesOf(0xc3, "a"), 0],
    ["an overlong slash", bytesOf("x", 0xc0, 0xaf), 1],
    ["an overlong three-byte form", bytesOf(0xe0, 0x80, 0xaf), 0],
    ["a surrogate", bytesOf("ok", 0xed, 0xa0, 0x80), 2],
    ["a code point past U+10FFFF", bytesOf(0xf4, 0x90, 0x80, 0x80), 0],
    ["0xFF", bytesOf("é", 0xff), 2],
  ])("%s", (_, bytes, expected) => {
    expect(firstInvalidUtf8Byte(bytes)).toBe(expected);
  });
});
