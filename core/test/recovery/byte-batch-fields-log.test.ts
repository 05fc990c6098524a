// A byte batch with keys, headers (kept per row or made on demand) and rows of several
// partitions goes into the write-ahead log as one entry of its columns and comes back from it,
// after a restart, as columns that give the very records the source handed over.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Source } from "sluice/connector";
import { SourceRecordColumns, SourceRecordColumnsBuilder } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SourceLedger } from "../../src/recovery/source-ledger.js";
import { WriteAheadLog } from "../../src/recovery/write-ahead-log.js";
import { testLedger } from "./ledger-harness.js";

const encoder = new TextEncoder();
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-columns-log-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function ledger(wal: WriteAheadLog | undefined): SourceLedger {
  return testLedger({ name: "source:broker#1", wal });
}

function brokerBatch(): SourceRecordColumns {
  // Headers made on demand from what the broker gave, as the MQTT and RabbitMQ sources keep them.
  const builder = new SourceRecordColumnsBuilder((qos: number) => ({
    qos: encoder.encode(String(qos)),
    // A view into a larger buffer: the log must hold its own bytes, not the whole buffer.
    trace: Buffer.from("xxtrace-7xx").subarray(2, 9),
  }));
  builder.add("sensors/a", encoder.encode("21.5"), encoder.encode("sensors/a"), 1_000, 4, 1);
  builder.add("sensors/b", encoder.encode(""), new Uint8Array(0), 1_001, 5);
  builder.add("sensors/a", encoder.encode("22"), undefined, 1_002, 9, 2);
  return builder.build() as SourceRecordColumns;
}

describe("byte batches with keys and headers in the write-ahead log", () => {
  it("are replayed after a restart as columns giving the same records", async () => {
    const columns = brokerBatch();
    const handedOver = columns.records();
    const first = ledger(new WriteAheadLog(root));
    await first.beforeStart({} as Source);
    let settled: unknown = "not settled";
    const kept = await first.receive(
      columns,
      (error) => {
        settled = error;
      },
      AbortSignal.timeout(5_000),
    );
    expect(kept).toBe(columns);
    expect(settled).toBeUndefined(); // in the log: acknowledged to the source
    await first.close();

    // A restart with no checkpoint: everything in the log waits for the first batch.
    const second = ledger(new WriteAheadLog(root));
    await second.beforeStart({} as Source);
    const blocks = await second.takeBatch(1_000);
    expect(blocks).toHaveLength(1);
    const replayed = blocks[0]?.columns;
    expect(replayed).toBeInstanceOf(SourceRecordColumns);
    expect(replayed?.keys?.present).toBeDefined();
    expect(replayed?.partitions?.names).toEqual(["sensors/a", "sensors/b"]);
    expect(replayed?.records()).toEqual(handedOver);
    expect(replayed?.records().map((r) => [r.partition, r.offset, r.key?.length])).toEqual([
      ["sensors/a", "4", 9],
      ["sensors/b", "5", 0],
      ["sensors/a", "9", undefined],
    ]);
    const logged = columns.fields().headers;
    const trace = logged?.kind === "list" ? logged.headers[0]?.trace : undefined;
    expect(trace?.buffer.byteLength).toBe(7);
    expect(Buffer.isBuffer(trace)).toBe(true);
    await second.close();
  });
});

describe("byte batches of a replayable source", () => {
  it("stay columns in the batch, grouped by partition as records are, with each partition's extent", async () => {
    const read = (rows: [string, number][]) => {
      const builder = new SourceRecordColumnsBuilder();
      for (const [partition, offset] of rows) {
        builder.add(partition, encoder.encode(`${partition}@${offset}`), undefined, 1, offset);
      }
      return builder.build() as SourceRecordColumns;
    };
    // Two reads, each a run per partition, as the Kafka source's are.
    const first = read([
      ["orders-1", 5],
      ["orders-1", 6],
      ["orders-0", 3],
    ]);
    const second = read([
      ["orders-0", 4],
      ["orders-2", 9],
      ["orders-1", 7],
    ]);
    const replayable = ledger(undefined);
    const settled: unknown[] = [];
    for (const columns of [first, second]) {
      const kept = await replayable.receive(
        columns,
        (error) => settled.push(error),
        AbortSignal.timeout(5_000),
      );
      expect(kept).toBe(columns);
    }
    expect(settled).toEqual([]); // settled once the batch is checkpointed, not before
    const blocks = await replayable.takeBatch(1_000);
    const pieces = blocks.map((block) => block.columns);
    expect(pieces.every((piece) => piece instanceof SourceRecordColumns)).toBe(true);
    expect(blocks.flatMap((block) => block.records).map((r) => r.offset)).toEqual(
      // orders-1 first (it arrived first), then orders-0, then orders-2.
      ["5", "6", "7", "3", "4", "9"],
    );
    expect(replayable.extentOf(1_000)?.partitions).toEqual([
      ["orders-1", 3, "7"],
      ["orders-0", 2, "4"],
      ["orders-2", 1, "9"],
    ]);
    for (const block of blocks) block.ack?.();
    expect(settled).toEqual([undefined, undefined]);
    expect(replayable.checkpointAt(1_000).offsets).toEqual(
      new Map([
        ["orders-1", "7"],
        ["orders-0", "4"],
        ["orders-2", "9"],
      ]),
    );
  });
});
