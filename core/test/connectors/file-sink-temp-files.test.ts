// A process killed while the file sink writes leaves `.<name>.<uuid>.tmp` behind; the next sink
// of that folder and prefix removes its own leftovers on connect and nothing else.
import { randomUUID } from "node:crypto";
import { watch } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isBatchTemporaryFileName } from "../../src/connectors/file/file-names.js";

const encoder = new TextEncoder();
const records = (...values: string[]) => values.map((value) => ({ value: encoder.encode(value) }));
let root: string;
let directory: string;
let registry: ConnectorRegistry;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-sink-tmp-"));
  directory = join(root, "out");
  await mkdir(directory);
  registry = createConnectorRegistry({ logger: new LogCapture().logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

/** The temporary name the sink writes a batch file under, as a killed writer leaves it. */
const leftover = (name: string): string => `.${name}.${randomUUID()}.tmp`;

/** Files as a kill leaves them: half-written temporary files next to finished batch files. */
async function createFiles(names: readonly string[]): Promise<void> {
  await Promise.all(names.map((name) => writeFile(join(directory, name), `content of ${name}\n`)));
}

async function connectSink(config: object) {
  const sink = registry.createSink("file", { directory, ...config }).connector;
  await sink.connect(AbortSignal.timeout(5_000));
  return sink;
}

describe("file sink: temporary files left by a kill", () => {
  it("removes its own leftovers on connect and keeps finished files and everyone else's", async () => {
    const finished = [
      "orders-0001700000001000-00000.jsonl",
      "orders-0001700000001000-00001.jsonl",
      "orders-0001700000002000-00000.txt",
    ];
    const ownLeftovers = [
      leftover("orders-0001700000002000-00000.jsonl"),
      leftover("orders-0001700000002000-00001.jsonl"),
      leftover("orders-0001700000003000-00000.txt"),
      leftover("orders-0001700000002000-00000.jsonl"),
    ];
    const othersFiles = [
      // Another sink in the same folder, including prefixes that start with this one.
      leftover("payments-0001700000002000-00000.jsonl"),
      leftover("orders-eu-0001700000002000-00000.jsonl"),
      leftover("orders.v2-0001700000002000-00000.jsonl"),
      "orders-eu-0001700000001000-00000.jsonl",
      // Not the sink's naming scheme: someone else's temporary and hidden files.
      ".orders-0001700000002000-00000.jsonl.tmp",
      ".orders-0001700000002000-00000.jsonl.not-a-uuid.tmp",
      `.orders-0001700000002000-00000.csv.${randomUUID()}.tmp`,
      `orders-0001700000002000-00000.jsonl.${randomUUID()}.tmp`,
      `.orders-0001700000002000-00000.jsonl.${randomUUID()}.tmp.bak`,
      ".gitkeep",
      "_SUCCESS",
      "notes.tmp",
    ];
    await createFiles([...finished, ...ownLeftovers, ...othersFiles]);

    await connectSink({ prefix: "orders", format: "jsonl" });

    expect((await readdir(directory)).sort()).toEqual([...finished, ...othersFiles].sort());
    for (const name of finished) {
      expect(await readFile(join(directory, name), "utf8")).toBe(`content of ${name}\n`);
    }
  });

  it("two sinks in one folder each remove only their own prefix's leftovers", async () => {
    const countsLeftover = leftover("counts-0001700000002000-00000.txt");
    const totalsLeftover = leftover("totals-0001700000002000-00000.txt");
    await createFiles([countsLeftover, totalsLeftover]);

    const counts = await connectSink({ prefix: "counts" });
    expect(await readdir(directory)).toEqual([totalsLeftover]);
    await counts.writeBatch(records("a"), {
      batchTime: 1_700_000_003_000,
      partition: 0,
      idempotencyKey: "k",
    });

    await connectSink({ prefix: "totals" });
    expect((await readdir(directory)).sort()).toEqual(["counts-0001700000003000-00000.txt"]);
  });

  it("writes after the cleanup, and a reconnect of the same sink does not clean again", async () => {
    const sink = await connectSink({ prefix: "part" });
    await sink.writeBatch(records("a"), { batchTime: 1_000, partition: 0, idempotencyKey: "k" });
    // Stands in for a file another write of this sink has in flight while it reconnects.
    const inFlight = leftover("part-0000000000002000-00000.txt");
    await createFiles([inFlight]);
    await sink.connect(AbortSignal.timeout(5_000));
    expect((await readdir(directory)).sort()).toEqual([
      inFlight,
      "part-0000000000001000-00000.txt",
    ]);
  });

  it("copies of a cluster job (writers) each remove only their own leftovers, at their first write", async () => {
    const plain = leftover("counts-0001700000002000-00000.txt");
    const keyed0 = leftover("counts-0001700000002000-keyed-0-00000.txt");
    const keyed1 = leftover("counts-0001700000002000-keyed-1-00000.txt");
    const process = leftover("counts-0001700000002000-process-a.1-00000.txt");
    await createFiles([plain, keyed0, keyed1, process]);
    const sink = await connectSink({ prefix: "counts" });
    // On connect: the leftovers written as no writer (one process running the job).
    expect((await readdir(directory)).sort()).toEqual([keyed0, keyed1, process].sort());
    await sink.writeBatch(records("a"), {
      batchTime: 1_700_000_003_000,
      partition: 0,
      idempotencyKey: "k",
      writer: "keyed-1",
    });
    expect((await readdir(directory)).sort()).toEqual(
      ["counts-0001700000003000-keyed-1-00000.txt", keyed0, process].sort(),
    );
    await sink.writeBatch(records("b"), {
      batchTime: 1_700_000_003_000,
      partition: 0,
      idempotencyKey: "k2",
      writer: "process-a.1",
    });
    expect((await readdir(directory)).sort()).toEqual(
      [
        "counts-0001700000003000-keyed-1-00000.txt",
        "counts-0001700000003000-process-a.1-00000.txt",
        keyed0,
      ].sort(),
    );
  });

  it("cleans exactly the names its writes use (observed while writing)", async () => {
    const sink = await connectSink({ prefix: "events", format: "jsonl" });
    const target = "events-0001700000004000-00002.jsonl";
    const seen: string[] = [];
    const watcher = watch(directory);
    const renamedIntoPlace = new Promise<void>((resolve) => {
      watcher.on("change", (_event, name) => {
        seen.push(String(name));
        if (name === target) resolve();
      });
    });
    try {
      await sink.writeBatch(records('{"a":1}'), {
        batchTime: 1_700_000_004_000,
        partition: 2,
        idempotencyKey: "k",
      });
      await renamedIntoPlace;
    } finally {
      watcher.close();
    }
    const temporary = seen.filter((name) => name !== target);
    expect(temporary.length).toBeGreaterThan(0);
    for (const name of temporary) expect(isBatchTemporaryFileName(name, "events")).toBe(true);
  });
});
