// The Kafka sink against the local broker: keys, headers and timestamps kept, keyed
// partitioning, oversized records refused by index, missing topics and unreachable brokers.
import type { ConnectorRegistry } from "sluice/advanced";
import type { WriteBatchContext } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BROKERS, readTopic, uniqueName } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";
import { createKafkaSink, kafkaRegistry } from "./source-harness.js";

const suite = kafkaSuite();
let registry: ConnectorRegistry;
const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text);
const signal = () => AbortSignal.timeout(30_000);
const batch = (n: number, partition = 0): WriteBatchContext => ({
  batchTime: 1_700_000_000_000 + n * 1_000,
  partition,
  idempotencyKey: `test/${n}/0/${partition}`,
});

beforeEach(() => {
  registry = kafkaRegistry();
});

afterEach(async () => {
  await registry.dispose();
});

describe("kafka sink", () => {
  it("keeps keys, headers and timestamps, and sends one key to one partition", async () => {
    const topic = await suite.newTopic("sink", 4);
    const sink = createKafkaSink(registry, { brokers: BROKERS, topic });
    await sink.connect(signal());
    const keys = ["alpha", "beta", "gamma", "delta", "epsilon"];
    await sink.writeBatch(
      keys.map((key, index) => ({
        key: bytes(key),
        value: bytes(`${key}-1`),
        headers: { origin: bytes("test"), index: bytes(String(index)) },
        timestampMs: 1_700_000_000_000 + index,
      })),
      batch(0),
    );
    await sink.writeBatch(
      keys.map((key) => ({ key: bytes(key), value: bytes(`${key}-2`) })),
      batch(1),
    );
    const messages = await readTopic(suite.kafka, suite.admin, topic);
    expect(messages).toHaveLength(10);
    for (const key of keys) {
      const ofKey = messages.filter((message) => message.key === key);
      expect(ofKey.map((message) => message.value)).toEqual([`${key}-1`, `${key}-2`]);
      expect(new Set(ofKey.map((message) => message.partition)).size).toBe(1);
    }
    const first = messages.find((message) => message.value === "gamma-1");
    expect(first?.headers).toEqual({ origin: "test", index: "2" });
    expect(sink.metrics).toMatchObject({ recordsOut: 10, writes: 2, errors: 0 });
  });

  it("refuses an oversized record by its index, before sending anything of the batch", async () => {
    const topic = await suite.newTopic("sink");
    const sink = createKafkaSink(registry, { brokers: BROKERS, topic, maxRecordBytes: 100 });
    await sink.connect(signal());
    const records = [{ value: bytes("small") }, { value: new Uint8Array(101) }];
    await expect(sink.writeBatch(records, batch(3, 2))).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      message: expect.stringContaining(
        "Record 1 of the batch at 1700000003000 (partition 2) takes 101 bytes",
      ),
    });
    expect(await readTopic(suite.kafka, suite.admin, topic)).toEqual([]);
  });

  it("writes a tombstone (a null value) for a record marked so, and refuses one that has a value", async () => {
    const topic = await suite.newTopic("sink");
    const sink = createKafkaSink(registry, { brokers: BROKERS, topic });
    await sink.connect(signal());
    await sink.writeBatch(
      [
        { key: bytes("deleted"), value: new Uint8Array(0), tombstone: true },
        { key: bytes("empty"), value: new Uint8Array(0) },
        { key: bytes("kept"), value: bytes("v"), tombstone: false },
      ],
      batch(4),
    );
    expect(
      (await readTopic(suite.kafka, suite.admin, topic)).map(({ key, value, tombstone }) => [
        key,
        value,
        tombstone,
      ]),
    ).toEqual([
      ["deleted", "", true],
      ["empty", "", false],
      ["kept", "v", false],
    ]);
    await expect(
      sink.writeBatch(
        [{ value: bytes("ok") }, { key: bytes("k"), value: bytes("x"), tombstone: true }],
        batch(5),
      ),
    ).rejects.toMatchObject({
      code: "SLUICE_INVALID_RECORD",
      recordIndex: 1,
      message: expect.stringContaining("Record 1 of the batch at 1700000005000 (partition 0)"),
    });
  });

  it("writes a batch larger than the broker's record-batch limit in every mode, records under maxRecordBytes each", async () => {
    // The broker refuses a record batch over message.max.bytes (1 MiB by default), and one send
    // puts a partition's records into one batch: 1500 records of 1 KiB to one partition is
    // 1.5 MiB of ordinary records that must still arrive whole and in order.
    const topic = await suite.newTopic("sink");
    const records = (mode: string) =>
      Array.from({ length: 1500 }, (_, index) => ({
        key: bytes("one-key"),
        value: bytes(`${mode}-${String(index).padStart(4, "0")}-${"x".repeat(1_000)}`),
      }));
    const modes: [string, Record<string, unknown>][] = [
      ["plain", {}],
      ["transactional", { transactionalId: uniqueName("big-batch") }],
    ];
    for (const [mode, extra] of modes) {
      const sink = createKafkaSink(registry, { brokers: BROKERS, topic, ...extra });
      await sink.connect(signal());
      await sink.writeBatch(records(mode), batch(0));
      expect(sink.metrics).toMatchObject({ recordsOut: 1500, writes: 1, errors: 0 });
    }
    const written = await readTopic(suite.kafka, suite.admin, topic);
    expect(written.map((message) => message.value)).toEqual(
      modes.flatMap(([mode]) =>
        records(mode).map((record) => new TextDecoder().decode(record.value)),
      ),
    );
  });

  it("writes each batch in its own transaction when given a transactionalId", async () => {
    const topic = await suite.newTopic("sink");
    const sink = createKafkaSink(registry, {
      brokers: BROKERS,
      topic,
      transactionalId: uniqueName("per-write"),
    });
    await sink.connect(signal());
    await sink.writeBatch([{ value: bytes("a") }, { value: bytes("b") }], batch(0));
    await sink.writeBatch([{ value: bytes("c") }], batch(1));
    expect(
      (await readTopic(suite.kafka, suite.admin, topic)).map((message) => message.value),
    ).toEqual(["a", "b", "c"]);
    expect(sink.metrics).toMatchObject({ transactions: 2, aborts: 0 });
  });

  it("refuses a topic that does not exist, naming it", async () => {
    const missing = uniqueName("missing");
    const sink = createKafkaSink(registry, { brokers: BROKERS, topic: missing, retries: 1 });
    await sink.connect(signal());
    await expect(sink.writeBatch([{ value: bytes("x") }], batch(0))).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining(`has no topic "${missing}"`),
    });
  });

  it("names the address and what to check when no broker answers", async () => {
    const closed = "127.0.0.1:19092";
    const sink = createKafkaSink(registry, { brokers: [closed], topic: "orders", retries: 0 });
    const failure = await sink.connect(signal()).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_NOT_CONNECTED");
    expect(failure?.message).toContain(`Is Kafka running at ${closed}?`);
  });
});
