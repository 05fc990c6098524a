// The Kafka source's side of flow control, without a broker: read limits per read and per
// partition, the surplus kept, pauses per partition, and the backlog it reports.
import { hasErrorCode, type SourceRecord } from "sluice";
import type { ReadResult } from "sluice/connector";
import { afterEach, describe, expect, it } from "vitest";
import type { KafkaSource } from "../src/kafka-source.js";
import { type FakeConsumer, fakeKafkaSource } from "./fake-kafka.js";

const decoder = new TextDecoder();
const signal = () => AbortSignal.timeout(5_000);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

function values(records: readonly SourceRecord[]): string[] {
  return records.map((record) => decoder.decode(record.value));
}

let open: KafkaSource | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function sourceOf(assignment: Record<string, number[]>, config: Record<string, unknown>) {
  const fake = await fakeKafkaSource(assignment, config);
  open = fake.source;
  return fake;
}

/** Reads until the source returns nothing, acknowledging each read; returns every value. */
async function drain(source: KafkaSource, options = {}): Promise<string[]> {
  const all: string[] = [];
  for (;;) {
    const result: ReadResult = await source.read(signal(), options);
    await result.ack();
    if (result.records.length === 0) return all;
    all.push(...values(result.records));
  }
}

describe("KafkaSource read limits", () => {
  it("returns at most maxRecords and keeps the surplus, in offset order, for later reads", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1] }, {});
    await consumer.deliver("orders", 0, range(0, 5), 5);
    await consumer.deliver("orders", 1, range(0, 5), 5);

    const first = await source.read(signal(), { maxRecords: 3 });
    expect(first.records).toHaveLength(3);
    expect(source.metrics.bufferedRecords).toBe(7);
    const rest = await drain(source, { maxRecords: 3 });
    const all = [...values(first.records), ...rest];
    expect(all).toHaveLength(10);
    expect(new Set(all).size).toBe(10);
    for (const partition of ["orders-0", "orders-1"]) {
      expect(all.filter((value) => value.startsWith(`${partition}@`))).toEqual(
        range(0, 5).map((offset) => `${partition}@${offset}`),
      );
    }
  });

  it("takes at most maxRecordsPerPartition of each partition named, maxRecords of the rest", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1, 2] }, {});
    for (const partition of [0, 1, 2]) await consumer.deliver("orders", partition, range(0, 6), 6);

    const result = await source.read(signal(), {
      maxRecords: 9,
      maxRecordsPerPartition: new Map([
        ["orders-0", 1],
        ["orders-1", 0],
      ]),
    });
    const counts = countByPartition(result.records);
    expect(counts.get("orders-0")).toBe(1);
    expect(counts.get("orders-1")).toBeUndefined();
    // Not in the map: limited by maxRecords (9 - 1) and the partition's 6 records.
    expect(counts.get("orders-2")).toBe(6);
    expect(source.backlog()).toEqual(
      new Map([
        ["orders-0", 5],
        ["orders-1", 6],
        ["orders-2", 0],
      ]),
    );
  });

  it("keeps the config's caps when flow control allows more", async () => {
    const { source, consumer } = await sourceOf(
      { orders: [0, 1] },
      { maxRecordsPerPartition: 2, maxRecordsPerRead: 3 },
    );
    await consumer.deliver("orders", 0, range(0, 5), 5);
    await consumer.deliver("orders", 1, range(0, 5), 5);
    const result = await source.read(signal(), {
      maxRecords: 100,
      maxRecordsPerPartition: new Map([
        ["orders-0", 50],
        ["orders-1", 50],
      ]),
    });
    const counts = countByPartition(result.records);
    expect(result.records).toHaveLength(3);
    expect(Math.max(...counts.values())).toBe(2);
  });

  it("starts each read at the next partition, so a small maxRecords still serves them all", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1, 2] }, {});
    for (const partition of [0, 1, 2]) await consumer.deliver("orders", partition, range(0, 3), 3);
    const firstPartitions: string[] = [];
    for (let read = 0; read < 6; read++) {
      const result = await source.read(signal(), { maxRecords: 1 });
      firstPartitions.push(result.records[0]?.partition ?? "none");
      await result.ack();
    }
    expect(firstPartitions).toEqual([
      "orders-0",
      "orders-1",
      "orders-2",
      "orders-0",
      "orders-1",
      "orders-2",
    ]);
  });

  it("refuses limits that are not whole numbers of records, naming the limit", async () => {
    const { source } = await sourceOf({ orders: [0] }, {});
    const refused = await source.read(signal(), { maxRecords: -1 }).catch((error) => error);
    expect(hasErrorCode(refused, "SLUICE_INVALID_ARGUMENT")).toBe(true);
    expect(String(refused.message)).toContain("maxRecords");
    const perPartition = await source
      .read(signal(), { maxRecordsPerPartition: new Map([["orders-0", 1.5]]) })
      .catch((error) => error);
    expect(String(perPartition.message)).toContain('maxRecordsPerPartition["orders-0"]');
  });
});

describe("KafkaSource backlog", () => {
  it("is the records held plus the lag to the latest high watermark, per partition", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1] }, {});
    expect(source.backlog()).toEqual(
      new Map([
        ["orders-0", 0],
        ["orders-1", 0],
      ]),
    );
    // 5 fetched of 100: 5 held, 95 still in Kafka.
    await consumer.deliver("orders", 0, range(0, 5), 100);
    expect(source.backlog().get("orders-0")).toBe(100);
    const read = await source.read(signal(), {
      maxRecords: 3,
      maxRecordsPerPartition: new Map([["orders-0", 3]]),
    });
    expect(read.records).toHaveLength(3);
    expect(source.backlog().get("orders-0")).toBe(97);
    // A nack puts the records back: they are waiting again.
    await read.ack(new Error("the batch failed"));
    expect(source.backlog().get("orders-0")).toBe(100);
    // A later fetch moves the high watermark; the lag follows it.
    await consumer.deliver("orders", 0, range(5, 10), 120);
    expect(source.backlog().get("orders-0")).toBe(120);
    expect(source.backlog().get("orders-1")).toBe(0);
  });
});

describe("KafkaSource pauses", () => {
  it("pauses only a partition whose buffer is at its bound, and resumes it once reads drain it", async () => {
    const { source, consumer } = await sourceOf(
      { orders: [0, 1] },
      { maxBufferedRecordsPerPartition: 4 },
    );
    await consumer.deliver("orders", 0, range(0, 6), 6);
    await consumer.deliver("orders", 1, range(0, 2), 2);
    expect([...consumer.paused]).toEqual(["orders-0"]);
    expect(source.metrics.pausedPartitions).toBe(1);

    const result = await source.read(signal(), {
      maxRecordsPerPartition: new Map([
        ["orders-0", 3],
        ["orders-1", 0],
      ]),
    });
    expect(result.records).toHaveLength(3);
    expect(consumer.paused.size).toBe(0);
    expect(consumer.pauseCalls).toEqual(["pause orders-0", "resume orders-0"]);
  });

  it("pause() pauses every partition; a batch fetched before it is kept and read after resume()", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1] }, {});
    await consumer.deliver("orders", 0, range(0, 2), 2);
    source.pause();
    expect([...consumer.paused].sort()).toEqual(["orders-0", "orders-1"]);
    // kafkajs hands over a batch it fetched before the pause.
    await consumer.deliver("orders", 1, range(0, 3), 3);
    const whilePaused = await source.read(signal());
    expect(whilePaused.records).toHaveLength(0);
    await whilePaused.ack();
    expect(source.metrics.bufferedRecords).toBe(5);

    source.resume();
    expect(consumer.paused.size).toBe(0);
    expect((await drain(source)).sort()).toEqual([
      "orders-0@0",
      "orders-0@1",
      "orders-1@0",
      "orders-1@1",
      "orders-1@2",
    ]);
  });
});

describe("KafkaSource pauses across rebalances", () => {
  // kafkajs keeps a consumer's pauses across rebalances, for partitions it no longer holds too
  // (only a restart, with a new consumer group object, forgets them).
  it("resumes a partition that comes back after it moved away while paused", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1] }, {});
    source.pause();
    rebalance(consumer, { orders: [0] });
    source.resume();
    expect(consumer.paused.size).toBe(0);
    rebalance(consumer, { orders: [0, 1] });
    expect(consumer.paused.size).toBe(0);
    await consumer.deliver("orders", 1, range(0, 2), 2);
    expect(await drain(source)).toEqual(["orders-1@0", "orders-1@1"]);
  });

  it("resumes a partition paused for a full buffer when a rebalance drops what it held", async () => {
    const { source, consumer } = await sourceOf(
      { orders: [0] },
      { maxBufferedRecordsPerPartition: 2 },
    );
    await consumer.deliver("orders", 0, range(0, 3), 3);
    expect([...consumer.paused]).toEqual(["orders-0"]);
    // It moves away (its held records are dropped) and comes back empty.
    rebalance(consumer, { orders: [] });
    rebalance(consumer, { orders: [0] });
    expect(consumer.paused.size).toBe(0);
    // It starts again where the group committed: nothing, here.
    await consumer.deliver("orders", 0, range(0, 2), 2);
    expect(await drain(source)).toEqual(["orders-0@0", "orders-0@1"]);
  });

  it("keeps a paused source's partitions paused through a rebalance", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1] }, {});
    source.pause();
    rebalance(consumer, { orders: [1, 2] });
    expect([...consumer.paused].sort()).toEqual(["orders-1", "orders-2"]);
    source.resume();
    expect(consumer.paused.size).toBe(0);
  });
});

describe("KafkaSource pauses across a consumer restart", () => {
  it("pauses again after kafkajs restarted its consumer, which forgets every pause", async () => {
    const { source, consumer } = await sourceOf({ orders: [0, 1] }, {});
    source.pause();
    consumer.emit(consumer.events.CRASH, { error: new Error("lost the brokers"), restart: true });
    // kafkajs's restart makes a new consumer group object, without the pauses.
    consumer.paused.clear();
    rebalance(consumer, { orders: [0, 1] });
    expect([...consumer.paused].sort()).toEqual(["orders-0", "orders-1"]);
    source.resume();
    expect(consumer.paused.size).toBe(0);
  });
});

/** kafkajs's rebalance as the source sees it: the group rebalances, then the join's assignment. */
function rebalance(consumer: FakeConsumer, assignment: Record<string, number[]>): void {
  consumer.emit(consumer.events.REBALANCING, {});
  consumer.emit(consumer.events.GROUP_JOIN, { memberId: "member-1", memberAssignment: assignment });
}

function countByPartition(records: readonly SourceRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records)
    counts.set(record.partition, (counts.get(record.partition) ?? 0) + 1);
  return counts;
}
