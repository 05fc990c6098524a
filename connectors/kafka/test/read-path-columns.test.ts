// A read hands over one byte batch of every partition it takes from: its records are the very
// records the source made of kafkajs's messages one by one (keys null or empty, headers given
// once, several times or not at all, offsets with the gaps compaction and transaction markers
// leave), and nacking it hands the same records out again.
import fc from "fast-check";
import type { IHeaders, KafkaMessage } from "kafkajs";
import { pino } from "pino";
import type { SourceRecord } from "sluice/connector";
import { describe, expect, it } from "vitest";
import { PartitionState } from "../src/partition-state.js";
import { ReadPath, readLimits } from "../src/read-path.js";

const encoder = new TextEncoder();

/** The record a message makes: what the source made of each message before byte batches. */
function recordOf(partition: string, message: KafkaMessage): SourceRecord {
  const headers: Record<string, Uint8Array> = {};
  for (const [name, raw] of Object.entries(message.headers ?? {})) {
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value === undefined) continue;
    headers[name] = typeof value === "string" ? encoder.encode(value) : value;
  }
  return {
    // Values and keys are Buffers, as kafkajs gives them (a missing value an empty one, marked
    // as a tombstone).
    value: message.value ?? Buffer.alloc(0),
    ...(message.key ? { key: message.key } : {}),
    ...(message.value === null ? { tombstone: true as const } : {}),
    headers,
    timestampMs: Number(message.timestamp),
    partition,
    offset: (BigInt(message.offset) + 1n).toString(),
  };
}

const bytes = fc.uint8Array({ maxLength: 8 }).map((array) => Buffer.from(array));
const headerValue = fc.oneof(bytes, fc.string({ maxLength: 4 }));
const headers: fc.Arbitrary<IHeaders> = fc.dictionary(
  fc.constantFrom("trace", "type", "retries"),
  fc.oneof(headerValue, fc.array(headerValue, { minLength: 1, maxLength: 3 })),
  { maxKeys: 3 },
);
/** A partition's fetched messages: offsets growing with gaps, from a large base at times. */
const fetched = fc
  .tuple(
    fc.oneof(fc.nat({ max: 100 }), fc.constant(2 ** 53 - 3)),
    fc.array(
      fc.record({
        gap: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 })),
        key: fc.option(bytes, { nil: null }),
        value: fc.option(bytes, { nil: null }),
        headers,
        timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
      }),
      { maxLength: 12 },
    ),
  )
  .map(([base, rows]) => {
    let offset = BigInt(base);
    return rows.map((row): KafkaMessage => {
      offset += BigInt(row.gap);
      return {
        key: row.key,
        value: row.value,
        headers: row.headers,
        timestamp: String(row.timestamp),
        attributes: 0,
        offset: offset.toString(),
      };
    });
  });

function byPartition(records: readonly SourceRecord[]): SourceRecord[] {
  return [...records].sort((a, b) => a.partition.localeCompare(b.partition));
}

function readPath(): ReadPath {
  const path = new ReadPath(
    {
      maxRecordsPerRead: 10_000,
      maxRecordsPerPartition: 1_000,
      maxBufferedRecordsPerPartition: 10_000,
    },
    pino({ level: "silent" }),
    { recordsIn: 0, bytesIn: 0 },
  );
  for (const partition of [0, 1, 2]) {
    path.partitions.set(`orders-${partition}`, new PartitionState("orders", partition));
  }
  return path;
}

describe("ReadPath byte batches", () => {
  it("give the records each message made one by one, and the same again after a nack", () => {
    fc.assert(
      fc.property(fc.array(fetched, { minLength: 3, maxLength: 3 }), (partitions) => {
        const path = readPath();
        const expected: SourceRecord[] = [];
        partitions.forEach((messages, partition) => {
          path.receive(`orders-${partition}`, messages, "0");
          expected.push(...messages.map((message) => recordOf(`orders-${partition}`, message)));
        });
        const taken = path.take(readLimits({}));
        if (expected.length === 0) {
          expect(taken).toBeUndefined();
          return;
        }
        expect(taken?.columns.records()).toStrictEqual(expected);
        // A nack puts the messages back: the next read makes the same records of them (starting
        // at the next partition, each partition's in offset order).
        for (const part of taken?.parts ?? [])
          part.state.nacked(taken?.sequence ?? 0, part.records);
        const again = path.take(readLimits({}))?.columns.records() ?? [];
        expect(byPartition(again)).toStrictEqual(byPartition(expected));
      }),
    );
  });

  it("numbers a run of consecutive offsets of one partition as a sequence, gaps one by one", () => {
    const path = readPath();
    const message = (offset: number): KafkaMessage => ({
      key: null,
      value: Buffer.from(`v${offset}`),
      headers: {},
      timestamp: "5",
      attributes: 0,
      offset: String(offset),
    });
    path.receive("orders-0", [3, 4, 5].map(message), "6");
    const run = path.take(readLimits({}))?.columns;
    expect(run?.offsets).toEqual({ kind: "sequence", first: 4 });
    expect(run?.keys).toBeUndefined();
    expect(run?.headers).toBeUndefined();
    path.receive("orders-1", [7, 9].map(message), "10");
    const gaps = path.take(readLimits({}))?.columns;
    expect(gaps?.offsets.kind).toBe("positions");
    expect(gaps?.records().map((record) => record.offset)).toEqual(["8", "10"]);
  });
});
