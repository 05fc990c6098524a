import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SourceRecord } from "sluice";
import {
  type ConnectorRegistry,
  type CreateSourceOptions,
  createConnectorRegistry,
  SourceSession,
} from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const decoder = new TextDecoder();
let root: string;
let directory: string;
let registry: ConnectorRegistry;
let logs: LogCapture;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-source-"));
  directory = join(root, "in");
  await mkdir(directory);
  logs = new LogCapture();
  registry = createConnectorRegistry({ logger: logs.logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

/** Writes a file under a hidden name and moves it into the watched folder. */
async function moveIn(name: string, text: string): Promise<void> {
  const hidden = join(root, `.${name}.writing`);
  await writeFile(hidden, text);
  await rename(hidden, join(directory, name));
}

async function open(config: object = {}, options: CreateSourceOptions = {}) {
  const source = registry.createSource(
    "file",
    { directory, pollIntervalMs: 20, ...config },
    options,
  ).connector;
  await source.connect(AbortSignal.timeout(5_000));
  return source;
}

type OpenSource = Awaited<ReturnType<typeof open>>;

/** Reads (and acks) until `count` records arrived. */
async function readRecords(source: OpenSource, count: number): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const signal = AbortSignal.timeout(5_000);
  while (records.length < count) {
    if (signal.aborted) throw new Error(`only ${records.length} of ${count} records arrived`);
    const result = await source.read(signal);
    records.push(...result.records);
    await result.ack();
  }
  return records;
}

const values = (records: readonly SourceRecord[]) => records.map((r) => decoder.decode(r.value));

describe("file source", () => {
  it("reads only files moved in, never hidden, temporary or marker files", async () => {
    const source = await open();
    await writeFile(join(directory, ".hidden.txt"), "hidden\n");
    await writeFile(join(directory, "upload.txt.tmp"), "temporary\n");
    await writeFile(join(directory, "download.part"), "partial\n");
    await writeFile(join(directory, "_SUCCESS"), "marker\n");
    await mkdir(join(directory, "sub"));
    await writeFile(join(directory, "sub", "nested.txt"), "nested\n");
    await moveIn("data.txt", "visible\n");
    expect(values(await readRecords(source, 1))).toEqual(["visible"]);
    await moveIn("later.txt", "after\n");
    expect(values(await readRecords(source, 1))).toEqual(["after"]);
  });

  it("skips files already there on a first run with startAt latest, reads them with earliest", async () => {
    // Files are read oldest first (modification time, then name; timestamps can tie).
    await moveIn("1-old.txt", "old\n");
    const latest = await open();
    await moveIn("2-new.txt", "new\n");
    expect(values(await readRecords(latest, 1))).toEqual(["new"]);
    const earliest = await open({ startAt: "earliest" });
    expect(values(await readRecords(earliest, 2))).toEqual(["old", "new"]);
  });

  it("gives each record its file as partition and the byte position after it as offset", async () => {
    const source = await open();
    await moveIn("a.txt", "one\r\ntwo\n\nlast line without newline");
    const records = await readRecords(source, 4);
    expect(values(records)).toEqual(["one", "two", "", "last line without newline"]);
    expect(records.map((record) => [record.partition, record.offset])).toEqual([
      ["a.txt", "5"],
      ["a.txt", "9"],
      ["a.txt", "10"],
      ["a.txt", "35"],
    ]);
  });

  it("resumes after the committed offsets of a previous run", async () => {
    await moveIn("a.txt", "a1\na2\na3\n");
    await moveIn("b.txt", "b1\n");
    await moveIn("c.txt", "c1\nc2\n");
    // a.txt was read up to a1, b.txt completely; c.txt arrived after the checkpoint.
    const source = await open(
      {},
      {
        committedOffsets: new Map([
          ["a.txt", "3"],
          ["b.txt", "3"],
        ]),
      },
    );
    expect(values(await readRecords(source, 4)).sort()).toEqual(["a2", "a3", "c1", "c2"]);
  });

  it("hands back at most maxRecordsPerRead records per read", async () => {
    const source = await open({ maxRecordsPerRead: 2 });
    await moveIn("a.txt", "1\n2\n3\n4\n5\n");
    const signal = AbortSignal.timeout(5_000);
    const sizes: number[] = [];
    while (sizes.reduce((a, b) => a + b, 0) < 5) {
      const result = await source.read(signal);
      if (result.records.length > 0) sizes.push(result.records.length);
      await result.ack();
    }
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("reads JSON lines, skipping blank lines", async () => {
    const source = await open({ format: "jsonl" });
    await moveIn("a.jsonl", '{"n":1}\n\n  \n[2]\n"three"\n');
    expect(values(await readRecords(source, 3))).toEqual(['{"n":1}', "[2]", '"three"']);
  });

  it("stops at an invalid JSON line with an error naming the file and byte, after the good lines", async () => {
    const source = await open({ format: "jsonl" });
    await moveIn("bad.jsonl", '{"ok":1}\n{oops\n{"ok":2}\n');
    expect(values(await readRecords(source, 1))).toEqual(['{"ok":1}']);
    await expect(source.read(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining('the record in "bad.jsonl" at byte 9 is not valid JSON'),
    });
  });

  it("skips and logs invalid lines with onInvalidRecord: skip", async () => {
    const source = await open({ format: "jsonl", onInvalidRecord: "skip" });
    await moveIn("bad.jsonl", '{"ok":1}\n{oops\n{"ok":2}\n');
    expect(values(await readRecords(source, 2))).toEqual(['{"ok":1}', '{"ok":2}']);
    expect(logs.text()).toContain('"msg":"invalid record skipped"');
    expect(logs.text()).toContain('"position":9');
  });

  it("reads CSV rows as JSON objects keyed by the header, quotes and all", async () => {
    const source = await open({ format: "csv" });
    await moveIn(
      "orders.csv",
      'id,item,note\r\n1,apple,"crisp, red"\r\n2,pear,"said ""ripe""\nthen left"\n3,fig,\n',
    );
    const records = await readRecords(source, 3);
    expect(records.map((record) => JSON.parse(decoder.decode(record.value)))).toEqual([
      { id: "1", item: "apple", note: "crisp, red" },
      { id: "2", item: "pear", note: 'said "ripe"\nthen left' },
      { id: "3", item: "fig", note: "" },
    ]);
  });

  it("reads headerless CSV with another delimiter as JSON arrays, and resumes after the header", async () => {
    const plain = await open({ format: "csv", csv: { header: false, delimiter: ";" } });
    await moveIn("plain.csv", "a;b\nc;d\n");
    expect(values(await readRecords(plain, 2))).toEqual(['["a","b"]', '["c","d"]']);
    await moveIn("resume.csv", "k,v\nx,1\ny,2\n");
    const resumed = await open(
      { format: "csv", startAt: "earliest" },
      { committedOffsets: { "resume.csv": "8", "plain.csv": "8" } },
    );
    expect(values(await readRecords(resumed, 1))).toEqual(['{"k":"y","v":"2"}']);
  });

  it("reports a CSV row whose field count differs from the header", async () => {
    const source = await open({ format: "csv" });
    await moveIn("short.csv", "a,b\n1\n");
    await expect(readRecords(source, 1)).rejects.toThrow(
      'the record in "short.csv" at byte 4 has 1 fields, the header has 2',
    );
  });

  it("reports a record longer than maxRecordBytes", async () => {
    const source = await open({ maxRecordBytes: 1_024 });
    await moveIn("long.txt", `${"x".repeat(3_000)}\n`);
    await expect(readRecords(source, 1)).rejects.toThrow(
      'the record in "long.txt" at byte 0 is longer than maxRecordBytes (1024)',
    );
  });

  it("ends its input at the end marker, after every file before it", async () => {
    const source = await open({ endMarker: "_DONE" });
    await moveIn("a.txt", "a\n");
    await moveIn("b.txt", "b\n");
    await writeFile(join(directory, "_DONE"), "");
    expect(values(await readRecords(source, 2))).toEqual(["a", "b"]);
    await expect(source.read(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_END_OF_INPUT",
    });
  });

  it("treats a missing folder as not connected, and recovers once it exists", async () => {
    const later = join(root, "later");
    const source = registry.createSource("file", {
      directory: later,
      pollIntervalMs: 20,
    }).connector;
    const waits: number[] = [];
    const session = new SourceSession(source, {
      // The folder appears while the session waits to retry.
      delay: async (ms) => {
        waits.push(ms);
        await mkdir(later, { recursive: true });
      },
    });
    await session.connect(AbortSignal.timeout(5_000));
    expect(waits).toHaveLength(1);
    await writeFile(join(root, "x.tmp"), "arrived\n");
    await rename(join(root, "x.tmp"), join(later, "x.txt"));
    const result = await session.next(AbortSignal.timeout(5_000));
    expect(values(result?.records ?? [])).toEqual(["arrived"]);
  });
});
