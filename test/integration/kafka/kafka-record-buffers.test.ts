// What the Kafka source hands out keeps only its own bytes alive: kafkajs decodes every value,
// key and header as a view into the whole fetch response, so a record's small header held in a
// window or in state would keep that response (up to megabytes) alive. Values and keys are
// copied into the read's byte batch; header values are copied out per fetched batch.
import type { ConnectorRegistry } from "sluice/advanced";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BROKERS, uniqueName } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";
import { createKafkaSource, kafkaRegistry, readAtLeast, settleAll } from "./source-harness.js";

const MESSAGES = 200;
const VALUE_BYTES = 1000;

const suite = kafkaSuite();
let registry: ConnectorRegistry;
let topic: string;

beforeAll(async () => {
  registry = kafkaRegistry();
  topic = await suite.newTopic("record-buffers");
});

afterAll(async () => {
  await registry?.dispose();
});

describe("the Kafka source's records", () => {
  it("hold header values in buffers of their own, and values in the read's byte batch", async () => {
    // One request, so the messages share a record batch and come back in one fetch response.
    await suite.producer.send({
      topic,
      messages: Array.from({ length: MESSAGES }, (_, index) => ({
        key: `key-${index}`,
        value: Buffer.alloc(VALUE_BYTES, index % 256),
        headers: {
          trace: Buffer.from([1, 2, 3, 4, 5, 6, 7, index % 256]),
          empty: Buffer.alloc(0),
          kind: "reading",
          hops: [Buffer.from("first"), Buffer.from("last")],
        },
      })),
    });
    const source = createKafkaSource(registry, {
      brokers: BROKERS,
      topics: [topic],
      groupId: uniqueName("group"),
      startFrom: "earliest",
      pollTimeoutMs: 200,
    });
    await source.connect(AbortSignal.timeout(30_000));
    const { records, results } = await readAtLeast(source, MESSAGES);
    expect(records).toHaveLength(MESSAGES);
    for (const [index, record] of records.entries()) {
      const { trace, empty, kind, hops } = record.headers;
      expect([...(trace ?? [])]).toEqual([1, 2, 3, 4, 5, 6, 7, index % 256]);
      expect(Buffer.from(hops ?? []).toString()).toBe("last");
      expect(kind?.byteLength).toBe("reading".length);
      // The header values of the messages fetched with this one (kafkajs reads them all as
      // bytes) and nothing more: not the fetch response of about MESSAGES * VALUE_BYTES bytes.
      const ownHeaderBytes = 8 + 0 + "reading".length + "first".length + "last".length;
      for (const value of [trace, empty, kind, hops]) {
        expect(value?.buffer.byteLength).toBeLessThanOrEqual(ownHeaderBytes * MESSAGES);
        expect((value?.buffer.byteLength ?? 0) % ownHeaderBytes).toBe(0);
      }
    }
    // Values are views into their read's byte batch, whose blob holds the read's values only.
    for (const result of results) {
      const valueBytes = result.records.reduce((sum, record) => sum + record.value.byteLength, 0);
      for (const record of result.records) {
        expect(record.value.byteLength).toBe(VALUE_BYTES);
        expect(record.value.buffer.byteLength).toBe(valueBytes);
        expect(record.key?.buffer.byteLength).toBeLessThan(valueBytes);
      }
    }
    await settleAll(results);
    await source.close();
  });
});
