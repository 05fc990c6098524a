import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Batch, batchRecords, type SourceRecord, StreamingContext } from "sluice";
import {
  type ConnectorRegistry,
  createConnectorRegistry,
  type SourceInputDStream,
} from "sluice/advanced";
import { LogCapture, ManualClock } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SOURCE_DEAD_LETTERS } from "../../src/connector/tokens.js";
import type { DeadLetter } from "../../src/recovery/dead-letters.js";

const decoder = new TextDecoder();
let root: string;
let directory: string;
let registry: ConnectorRegistry;
let logs: LogCapture;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-source-invalid-"));
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

async function open(config: object = {}) {
  const source = registry.createSource("file", {
    directory,
    pollIntervalMs: 20,
    startAt: "earliest",
    ...config,
  }).connector;
  await source.connect(AbortSignal.timeout(5_000));
  return source;
}

type OpenSource = Awaited<ReturnType<typeof open>>;

/** Reads (and acks) until the end marker `_DONE` ends the input; returns every record. */
async function readAll(source: OpenSource): Promise<SourceRecord[]> {
  const records: SourceRecord[] = [];
  const signal = AbortSignal.timeout(5_000);
  for (;;) {
    let result: Awaited<ReturnType<OpenSource["read"]>>;
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

const objects = (records: readonly SourceRecord[]) =>
  records.map((record) => JSON.parse(decoder.decode(record.value)) as unknown);

/** The lines of the warnings logged with message `msg`, parsed. */
function warnings(msg: string): Record<string, unknown>[] {
  return logs
    .text()
    .split("\n")
    .filter((line) => line.includes(`"msg":"${msg}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function goodRows(from: number, count: number): string {
  let text = "";
  for (let n = from; n < from + count; n++) text += `${n},row ${n},${n % 7}\n`;
  return text;
}

describe("file source CSV quoting (RFC 4180: a quote opens quoting only at a field's start)", () => {
  it("keeps a quote inside an unquoted field as a character and reads every row after it", async () => {
    const source = await open({ format: "csv", endMarker: "_DONE", onInvalidRecord: "skip" });
    await moveIn("stray.csv", `id,note,score\n10,ab"c,1\n${goodRows(11, 51)}`);
    await moveIn("_DONE", "");
    const rows = objects(await readAll(source));
    expect(rows).toHaveLength(52);
    expect(rows[0]).toEqual({ id: "10", note: 'ab"c', score: "1" });
    expect(rows[51]).toEqual({ id: "61", note: "row 61", score: String(61 % 7) });
    expect(warnings("invalid record skipped")).toEqual([]);
  });

  it("does not join the rows between two stray quotes into one record", async () => {
    const source = await open({ format: "csv", endMarker: "_DONE" });
    await moveIn("two.csv", 'id,note,score\n1,5" screen,2\n2,plain,3\n3,12" pipe,4\n4,"q",5\n');
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([
      { id: "1", note: '5" screen', score: "2" },
      { id: "2", note: "plain", score: "3" },
      { id: "3", note: '12" pipe', score: "4" },
      { id: "4", note: "q", score: "5" },
    ]);
  });

  it("counts a row with text after a closing quote as one invalid record, not the rows after it", async () => {
    const source = await open({ format: "csv", endMarker: "_DONE", onInvalidRecord: "skip" });
    const head = "id,note,score\n1,ok,1\n";
    await moveIn("closing.csv", `${head}2,"ab"c"d,2\n3,x,3\n4,"y",4\n`);
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([
      { id: "1", note: "ok", score: "1" },
      { id: "3", note: "x", score: "3" },
      { id: "4", note: "y", score: "4" },
    ]);
    const [skipped, ...more] = warnings("invalid record skipped");
    expect(more).toEqual([]);
    expect(skipped).toMatchObject({
      file: "closing.csv",
      position: head.length,
      invalidRecordsSkipped: 1,
    });
  });

  it("finds field starts after a delimiter of several UTF-8 bytes", async () => {
    const source = await open({
      format: "csv",
      endMarker: "_DONE",
      csv: { header: false, delimiter: "§" },
    });
    await moveIn("section.csv", 'a§"b§\nc"§d"e\nf§g\n');
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([
      ["a", "b§\nc", 'd"e'],
      ["f", "g"],
    ]);
  });

  it("refuses a quote or a line ending as the delimiter", () => {
    expect(() =>
      registry.createSource("file", { directory, format: "csv", csv: { delimiter: '"' } }),
    ).toThrow(/csv\.delimiter: a delimiter cannot be a double quote or a line ending/i);
  });
});

describe("file source CSV header with a repeated column name", () => {
  it("gives the repeat a suffix (id, id_2), keeping every value, and logs it", async () => {
    const source = await open({ format: "csv", endMarker: "_DONE" });
    await moveIn("dup.csv", "id,id,score,id_2\n1,2,3,4\n");
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([{ id: "1", id_3: "2", score: "3", id_2: "4" }]);
    expect(warnings("duplicate CSV column names renamed with a suffix (id, id_2, ...)")).toEqual([
      expect.objectContaining({
        file: "dup.csv",
        renamed: [{ from: "id", to: "id_3", column: 2 }],
      }),
    ]);
  });

  it("names the plain case id_2", async () => {
    const source = await open({ format: "csv", endMarker: "_DONE" });
    await moveIn("dup.csv", "id,id,score\n1,2,3\n");
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([{ id: "1", id_2: "2", score: "3" }]);
  });
});

describe("file source records longer than maxRecordBytes", () => {
  it("skips one far longer than a read chunk under onInvalidRecord: skip, with a counted warning", async () => {
    const source = await open({
      format: "jsonl",
      endMarker: "_DONE",
      maxRecordBytes: 1_024,
      onInvalidRecord: "skip",
    });
    const long = `{"pad":"${"x".repeat(200_000)}"}\n`;
    await moveIn("long.jsonl", `{"n":1}\n${long}{"n":2}\n${long}{"n":3}\n`);
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(warnings("invalid record skipped")).toEqual([
      expect.objectContaining({ file: "long.jsonl", position: 8, invalidRecordsSkipped: 1 }),
      expect.objectContaining({
        file: "long.jsonl",
        position: 8 + long.length + 8,
        invalidRecordsSkipped: 2,
      }),
    ]);
  });

  it("finds the end of a long CSV record past newlines inside its quotes", async () => {
    const source = await open({
      format: "csv",
      endMarker: "_DONE",
      maxRecordBytes: 1_024,
      onInvalidRecord: "skip",
    });
    const quoted = `"${"line\n".repeat(30_000)}"`;
    await moveIn("long.csv", `id,text\n1,short\n2,${quoted}\n3,after\n`);
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([
      { id: "1", text: "short" },
      { id: "3", text: "after" },
    ]);
    expect(warnings("invalid record skipped")).toHaveLength(1);
  });

  it("still stops the job under onInvalidRecord: fail, naming file and byte", async () => {
    const source = await open({ endMarker: "_DONE", maxRecordBytes: 1_024 });
    await moveIn("long.txt", `ok\n${"x".repeat(200_000)}\n`);
    await expect(readAll(source)).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining(
        'the record in "long.txt" at byte 3 is longer than maxRecordBytes (1024)',
      ),
    });
  });
});

describe("file source invalid records and the dead letters", () => {
  function captureDeadLetters(): DeadLetter[] {
    const letters: DeadLetter[] = [];
    registry.register(SOURCE_DEAD_LETTERS, { capture: (letter) => letters.push(letter) });
    return letters;
  }

  it("sends invalid records to the dead letters under skip when the job has them", async () => {
    const letters = captureDeadLetters();
    const source = await open({
      format: "jsonl",
      endMarker: "_DONE",
      maxRecordBytes: 1_024,
      onInvalidRecord: "skip",
    });
    const long = `"${"y".repeat(5_000)}"`;
    await moveIn("mixed.jsonl", `{"ok":1}\n{oops\n${long}\n{"ok":2}\n`);
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([{ ok: 1 }, { ok: 2 }]);
    expect(letters).toEqual([
      {
        batchTime: undefined,
        operation: "source(source:file#1)",
        error: expect.stringContaining('the record in "mixed.jsonl" at byte 9 is not valid JSON'),
        errorCode: "SLUICE_INVALID_RECORD",
        source: { partition: "mixed.jsonl", offset: "9" },
        record: "{oops",
      },
      expect.objectContaining({
        error: expect.stringContaining(
          'the record in "mixed.jsonl" at byte 15 is longer than maxRecordBytes (1024): 5002 bytes',
        ),
        source: { partition: "mixed.jsonl", offset: "15" },
        record: `"${"y".repeat(1_023)}…`,
      }),
    ]);
    expect(warnings("invalid record skipped")).toEqual([]);
  });

  it('with onInvalidRecord: "deadLetter", refuses to connect when the job has no dead letters', async () => {
    await expect(open({ onInvalidRecord: "deadLetter" })).rejects.toMatchObject({
      code: "SLUICE_INVALID_CONFIG",
      // In the module: a job config file has no dead-letter setting to point at.
      message: expect.stringContaining("add ctx.deadLetters(...) in the job module"),
    });
  });

  it('with onInvalidRecord: "deadLetter", sends a bad CSV row there', async () => {
    const letters = captureDeadLetters();
    const source = await open({ format: "csv", endMarker: "_DONE", onInvalidRecord: "deadLetter" });
    await moveIn("rows.csv", "a,b\n1,2\n3\n4,5\n");
    await moveIn("_DONE", "");
    expect(objects(await readAll(source))).toEqual([
      { a: "1", b: "2" },
      { a: "4", b: "5" },
    ]);
    expect(letters.map((letter) => [letter.source, letter.record, letter.error])).toEqual([
      [
        { partition: "rows.csv", offset: "8" },
        "3",
        'the record in "rows.csv" at byte 8 has 1 fields, the header has 2',
      ],
    ]);
  });
});

describe("a job reading files with ctx.deadLetters", () => {
  async function readLines(folder: string): Promise<string[]> {
    const lines: string[] = [];
    for (const name of (await readdir(folder).catch(() => [])).sort()) {
      if (name.startsWith(".")) continue;
      lines.push(...(await readFile(join(folder, name), "utf8")).split("\n").filter(Boolean));
    }
    return lines;
  }

  async function runJob(config: object): Promise<{ outputs: unknown[][]; error: unknown }> {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    ctx.deadLetters("file", { directory: join(root, "dead"), format: "jsonl" });
    const outputs: unknown[][] = [];
    const input = ctx.source("file", {
      directory,
      pollIntervalMs: 20,
      startAt: "earliest",
      endMarker: "_DONE",
      ...config,
    }) as SourceInputDStream;
    input
      .map((record) => JSON.parse(decoder.decode(record.value)) as unknown)
      .foreachBatch((batch: Batch<unknown>) => {
        outputs.push(batchRecords(batch));
      });
    await ctx.start();
    try {
      await vi.waitFor(() => expect(input.hasEnded() || ctx.scope.firstError()).toBeTruthy());
      clock.advance(1000);
      await ctx.scope.awaitProcessed(1000);
      return { outputs, error: ctx.scope.firstError() };
    } finally {
      await ctx.stop().catch(() => undefined);
    }
  }

  it("writes a malformed line and an over-long record to the dead letters and goes on", async () => {
    await moveIn(
      "orders.jsonl",
      `{"id":1}\n{"id":2,\n{"pad":"${"z".repeat(100_000)}"}\n{"id":3}\n`,
    );
    await moveIn("_DONE", "");
    const { outputs, error } = await runJob({
      format: "jsonl",
      maxRecordBytes: 1_024,
      onInvalidRecord: "skip",
    });
    expect(error).toBeUndefined();
    expect(outputs).toEqual([[{ id: 1 }, { id: 3 }]]);
    const letters = (await readLines(join(root, "dead"))).map(
      (line) => JSON.parse(line) as DeadLetter,
    );
    expect(letters.map((letter) => [letter.operation, letter.errorCode, letter.source])).toEqual([
      [
        "source(source:file#1)",
        "SLUICE_INVALID_RECORD",
        { partition: "orders.jsonl", offset: "9" },
      ],
      [
        "source(source:file#1)",
        "SLUICE_INVALID_RECORD",
        { partition: "orders.jsonl", offset: "18" },
      ],
    ]);
    expect(letters[0]?.record).toBe('{"id":2,');
    expect(letters[1]?.error).toContain("is longer than maxRecordBytes (1024)");
  });

  it("stops with an error naming file and byte under onInvalidRecord: fail, dead letters or not", async () => {
    await moveIn("orders.jsonl", '{"id":1}\n{"id":2,\n');
    await moveIn("_DONE", "");
    const { error } = await runJob({ format: "jsonl" });
    expect(error).toMatchObject({
      code: "SLUICE_INPUT_FAILED",
      message: expect.stringContaining('the record in "orders.jsonl" at byte 9 is not valid JSON'),
      cause: expect.objectContaining({ code: "SLUICE_INVALID_RECORD" }),
    });
    expect(await readLines(join(root, "dead"))).toEqual([]);
  });
});
