import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { batchFileName, type SourceRecord } from "sluice";
import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const encoder = new TextEncoder();
const records = (...values: string[]) => values.map((value) => ({ value: encoder.encode(value) }));
let root: string;
let registry: ConnectorRegistry;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-file-sink-"));
  registry = createConnectorRegistry({ logger: new LogCapture().logger });
});

afterEach(async () => {
  await registry.dispose();
  await rm(root, { recursive: true, force: true });
});

async function openSink(config: object) {
  const sink = registry.createSink("file", config).connector;
  await sink.connect(AbortSignal.timeout(5_000));
  return sink;
}

describe("file sink", () => {
  it("names one file per batch and partition by batch time, and leaves no temporary file", async () => {
    const directory = join(root, "out");
    const sink = await openSink({ directory, prefix: "counts" });
    const context = { batchTime: 1_700_000_002_000, idempotencyKey: "job/1700000002000/0" };
    await sink.writeBatch(records("a", "b"), { ...context, partition: 0 });
    await sink.writeBatch(records("c"), { ...context, partition: 3 });
    expect((await readdir(directory)).sort()).toEqual([
      "counts-0001700000002000-00000.txt",
      "counts-0001700000002000-00003.txt",
    ]);
    expect(
      await readFile(join(directory, batchFileName("counts", 1_700_000_002_000, 3, "txt")), "utf8"),
    ).toBe("c\n");
  });

  it("keeps the same batch and partition of two writers (copies of a cluster job) apart", async () => {
    const directory = join(root, "out");
    const sink = await openSink({ directory, prefix: "counts" });
    const context = { batchTime: 1_700_000_002_000, partition: 1, idempotencyKey: "k" };
    await sink.writeBatch(records("a"), { ...context, writer: "keyed-0" });
    await sink.writeBatch(records("b"), { ...context, writer: "keyed-1" });
    await sink.writeBatch(records("c"), context);
    // A batch written again by the same writer replaces its own file only.
    await sink.writeBatch(records("a2"), { ...context, writer: "keyed-0" });
    expect((await readdir(directory)).sort()).toEqual([
      "counts-0001700000002000-00001.txt",
      "counts-0001700000002000-keyed-0-00001.txt",
      "counts-0001700000002000-keyed-1-00001.txt",
    ]);
    const read = (name: string) => readFile(join(directory, name), "utf8");
    expect(await read(batchFileName("counts", 1_700_000_002_000, 1, "txt", "keyed-0"))).toBe(
      "a2\n",
    );
    expect(await read(batchFileName("counts", 1_700_000_002_000, 1, "txt", "keyed-1"))).toBe("b\n");
    expect(await read(batchFileName("counts", 1_700_000_002_000, 1, "txt"))).toBe("c\n");
  });

  it("replaces a replayed batch's file with the new content", async () => {
    const directory = join(root, "out");
    const sink = await openSink({ directory });
    const context = { batchTime: 1_000, partition: 0, idempotencyKey: "k" };
    await sink.writeBatch(records("first"), context);
    await sink.writeBatch(records("second"), context);
    expect(await readdir(directory)).toHaveLength(1);
    expect(await readFile(join(directory, batchFileName("part", 1_000, 0, "txt")), "utf8")).toBe(
      "second\n",
    );
  });

  it("refuses a non-JSON value in jsonl format, naming the record, and writes nothing", async () => {
    const directory = join(root, "out");
    const sink = await openSink({ directory, format: "jsonl" });
    await expect(
      sink.writeBatch(records('{"ok":true}', "not json"), {
        batchTime: 5_000,
        partition: 1,
        idempotencyKey: "k",
      }),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining("record 1 of batch 5000, partition 1 is not JSON"),
    });
    expect(await readdir(directory)).toEqual([]);
  });

  it("is not connected when its folder is missing and may not be created", async () => {
    const sink = registry.createSink("file", {
      directory: join(root, "missing"),
      createDirectory: false,
    }).connector;
    await expect(sink.connect(AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
    });
  });

  it("feeds the file source: its temporary files are never read, each batch is read once", async () => {
    const directory = join(root, "handoff");
    const sink = await openSink({ directory });
    const source = registry.createSource("file", { directory, pollIntervalMs: 20 }).connector;
    await source.connect(AbortSignal.timeout(5_000));
    for (let batch = 0; batch < 3; batch++) {
      await sink.writeBatch(records(`b${batch}-x`, `b${batch}-y`), {
        batchTime: 1_000 * (batch + 1),
        partition: 0,
        idempotencyKey: String(batch),
      });
    }
    const received: SourceRecord[] = [];
    const signal = AbortSignal.timeout(5_000);
    while (received.length < 6) {
      const result = await source.read(signal);
      received.push(...result.records);
      await result.ack();
    }
    expect(received.map((record) => new TextDecoder().decode(record.value))).toEqual([
      "b0-x",
      "b0-y",
      "b1-x",
      "b1-y",
      "b2-x",
      "b2-y",
    ]);
  });
});
