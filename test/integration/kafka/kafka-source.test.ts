// The Kafka source against the local broker: record contents, offsets owned by Sluice, start
// positions, per-partition limits, bounded buffering, patterns, rebalances, unreachable brokers.

import pino from "pino";
import type { SourceRecord } from "sluice";
import type { ConnectorRegistry } from "sluice/advanced";
import { type ClusterMembership, validateConfig } from "sluice/connector";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clusterSourceConfig } from "../../../connectors/kafka/src/cluster-mode.js";
import { checkConnection, KafkaSource } from "../../../connectors/kafka/src/index.js";
import { createKafkaClient } from "../../../connectors/kafka/src/kafka-client.js";
import { kafkaSourceConfig } from "../../../connectors/kafka/src/source-config.js";
import {
  BROKER,
  BROKERS,
  committedOffsets,
  connectProducer,
  uniqueName,
  until,
} from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";
import {
  createKafkaSource,
  kafkaRegistry,
  readAtLeast,
  settleAll,
  text,
  values,
} from "./source-harness.js";

const suite = kafkaSuite();
let registry: ConnectorRegistry;

beforeEach(() => {
  registry = kafkaRegistry();
});

afterEach(async () => {
  await registry.dispose();
});

async function produceTo(topic: string, partition: number, texts: readonly string[]) {
  await suite.producer.send({ topic, messages: texts.map((value) => ({ value, partition })) });
}

function sourceConfig(topic: string, extra: Record<string, unknown> = {}) {
  return {
    brokers: BROKERS,
    topics: [topic],
    groupId: uniqueName("group"),
    startFrom: "earliest",
    pollTimeoutMs: 200,
    heartbeatIntervalMs: 300,
    ...extra,
  };
}

const signal = () => AbortSignal.timeout(30_000);

/** Connects a second source of `first`'s group; resolves once each holds one of two partitions. */
async function secondMember(first: KafkaSource, config: Record<string, unknown>) {
  const second = createKafkaSource(registry, config);
  await second.connect(signal());
  await until(
    () => first.assignment().length === 1 && second.assignment().length === 1,
    20_000,
    "the rebalance between the two members",
  );
  return second;
}

describe("kafka source", () => {
  it("hands over values, keys, headers and timestamps untouched, with topic-partition and the next offset", async () => {
    const topic = await suite.newTopic("source");
    await suite.producer.send({
      topic,
      messages: [
        {
          key: "k1",
          value: "v1",
          headers: { origin: "test", repeated: ["first", "last"] },
          timestamp: "1700000000123",
        },
        { key: null, value: null },
      ],
    });
    const source = createKafkaSource(registry, sourceConfig(topic));
    await source.connect(signal());
    const { records, results } = await readAtLeast(source, 2);
    const [first, tombstone] = records;
    expect(text(first?.value)).toBe("v1");
    expect(text(first?.key)).toBe("k1");
    expect(first?.value).toBeInstanceOf(Uint8Array);
    expect(text(first?.headers.origin)).toBe("test");
    expect(text(first?.headers.repeated)).toBe("last");
    expect(first?.timestampMs).toBe(1_700_000_000_123);
    expect(first?.partition).toBe(`${topic}-0`);
    expect(first?.offset).toBe("1");
    expect(tombstone?.value.byteLength).toBe(0);
    expect(tombstone?.tombstone).toBe(true);
    expect(first?.tombstone).toBeUndefined();
    expect(tombstone?.key).toBeUndefined();
    expect(tombstone?.offset).toBe("2");
    await settleAll(results);
    expect(source.metrics).toMatchObject({ recordsIn: 2, bytesIn: 4, acks: results.length });
  });

  it("tells a tombstone (no value) from an empty value, also when a nacked read comes again", async () => {
    const topic = await suite.newTopic("source");
    await suite.producer.send({
      topic,
      messages: [
        { key: "deleted", value: null },
        { key: "empty", value: "" },
        { key: "kept", value: "v" },
      ],
    });
    const source = createKafkaSource(registry, sourceConfig(topic));
    await source.connect(signal());
    const shape = (records: readonly SourceRecord[]) =>
      records.map((record) => [text(record.key), text(record.value), record.tombstone === true]);
    const expected = [
      ["deleted", "", true],
      ["empty", "", false],
      ["kept", "v", false],
    ];
    const first = await readAtLeast(source, 3);
    expect(shape(first.records)).toEqual(expected);
    await settleAll(first.results, new Error("the batch failed"));
    const again = await readAtLeast(source, 3);
    expect(shape(again.records)).toEqual(expected);
    await settleAll(again.results);
  });

  it("commits offsets to Kafka only when a read is acknowledged, never on nack or close", async () => {
    const topic = await suite.newTopic("source");
    const config = sourceConfig(topic);
    await produceTo(topic, 0, ["a", "b", "c", "d", "e"]);
    const source = createKafkaSource(registry, config);
    await source.connect(signal());
    const first = await readAtLeast(source, 5);
    expect((await committedOffsets(suite.admin, config.groupId, topic)).get(0)).toBe("-1");
    await settleAll(first.results, new Error("the batch failed"));
    expect((await committedOffsets(suite.admin, config.groupId, topic)).get(0)).toBe("-1");
    const again = await readAtLeast(source, 5);
    expect(values(again.records)).toEqual(["a", "b", "c", "d", "e"]);
    await settleAll(again.results);
    expect((await committedOffsets(suite.admin, config.groupId, topic)).get(0)).toBe("5");

    await produceTo(topic, 0, ["f", "g", "h"]);
    const unacked = await readAtLeast(source, 3);
    expect(values(unacked.records)).toEqual(["f", "g", "h"]);
    await source.close();
    expect((await committedOffsets(suite.admin, config.groupId, topic)).get(0)).toBe("5");

    // The next run of the group resumes after the acknowledged records, not after the read ones.
    const next = createKafkaSource(registry, config);
    await next.connect(signal());
    const resumed = await readAtLeast(next, 3);
    expect(values(resumed.records)).toEqual(["f", "g", "h"]);
    await settleAll(resumed.results);
    expect((await committedOffsets(suite.admin, config.groupId, topic)).get(0)).toBe("8");
  });

  it("starts a new group at the latest offset, or the earliest when asked", async () => {
    const topic = await suite.newTopic("source");
    await produceTo(topic, 0, ["old-1", "old-2"]);
    const latest = createKafkaSource(registry, sourceConfig(topic, { startFrom: "latest" }));
    await latest.connect(signal());
    await produceTo(topic, 0, ["new-1"]);
    const fromLatest = await readAtLeast(latest, 1);
    expect(values(fromLatest.records)).toEqual(["new-1"]);

    const earliest = createKafkaSource(registry, sourceConfig(topic, { startFrom: "earliest" }));
    await earliest.connect(signal());
    const fromEarliest = await readAtLeast(earliest, 3);
    expect(values(fromEarliest.records)).toEqual(["old-1", "old-2", "new-1"]);
  });

  it("starts at explicit offsets, and at Sluice's checkpointed offsets before those", async () => {
    const topic = await suite.newTopic("source", 2);
    await produceTo(topic, 0, ["p0-0", "p0-1", "p0-2", "p0-3", "p0-4"]);
    await produceTo(topic, 1, ["p1-0", "p1-1", "p1-2", "p1-3", "p1-4"]);
    const config = sourceConfig(topic, {
      startOffsets: { [`${topic}-0`]: "3", [`${topic}-1`]: "1" },
    });
    const source = createKafkaSource(registry, config, { [`${topic}-1`]: "4" });
    await source.connect(signal());
    const { records } = await readAtLeast(source, 3);
    expect(values(records).sort()).toEqual(["p0-3", "p0-4", "p1-4"]);
    const more = await source.read(signal());
    expect(more.records).toEqual([]);
  });

  it("resumes with seek(): listed partitions at their offsets, the others from the first run's start", async () => {
    const topic = await suite.newTopic("source", 2);
    const firstRun = Date.now() - 60_000;
    const at = (offsetMs: number) => String(firstRun + offsetMs);
    await suite.producer.send({
      topic,
      messages: [
        { partition: 0, value: "p0-0", timestamp: at(-1_000) },
        { partition: 0, value: "p0-1", timestamp: at(1_000) },
        { partition: 0, value: "p0-2", timestamp: at(2_000) },
        { partition: 1, value: "p1-before", timestamp: at(-5_000) },
        { partition: 1, value: "p1-after", timestamp: at(500) },
      ],
    });
    const source = createKafkaSource(registry, sourceConfig(topic, { startFrom: "latest" }));
    await source.seek(new Map([[`${topic}-0`, "2"]]), { firstRunStartedAtMs: firstRun });
    await source.connect(signal());
    const { records } = await readAtLeast(source, 2);
    expect(values(records).sort()).toEqual(["p0-2", "p1-after"]);
    await expect(source.seek(new Map(), {})).rejects.toMatchObject({
      code: "SLUICE_ILLEGAL_STATE",
    });
  });

  it("returns at most maxRecordsPerPartition of a partition and maxRecordsPerRead in all per read", async () => {
    const topic = await suite.newTopic("source", 2);
    const expected0 = Array.from({ length: 10 }, (_, index) => `p0-${index}`);
    const expected1 = Array.from({ length: 10 }, (_, index) => `p1-${index}`);
    await produceTo(topic, 0, expected0);
    await produceTo(topic, 1, expected1);
    const source = createKafkaSource(
      registry,
      sourceConfig(topic, { maxRecordsPerPartition: 3, maxRecordsPerRead: 5 }),
    );
    await source.connect(signal());
    const { records, results } = await readAtLeast(source, 20);
    for (const result of results) {
      expect(result.records.length).toBeLessThanOrEqual(5);
      for (const partition of [`${topic}-0`, `${topic}-1`]) {
        const ofPartition = result.records.filter((record) => record.partition === partition);
        expect(ofPartition.length).toBeLessThanOrEqual(3);
      }
    }
    expect(values(records.filter((r) => r.partition === `${topic}-0`))).toEqual(expected0);
    expect(values(records.filter((r) => r.partition === `${topic}-1`))).toEqual(expected1);
  });

  it("pauses fetching a partition whose buffer is full, and resumes once reads drain it", async () => {
    const topic = await suite.newTopic("source");
    const expected = Array.from({ length: 60 }, (_, index) => `record-${index}`);
    // One send per record: the broker returns at least one whole record batch per fetch.
    for (const value of expected) await produceTo(topic, 0, [value]);
    const source = createKafkaSource(
      registry,
      sourceConfig(topic, { maxBufferedRecordsPerPartition: 5, maxBytesPerPartition: 256 }),
    );
    await source.connect(signal());
    await until(() => source.metrics.pausedPartitions === 1, 10_000, "pausing the full partition");
    // Give kafkajs time to fetch more, which a paused partition must not do.
    await new Promise((resolve) => setTimeout(resolve, 700));
    const held = source.metrics.bufferedRecords;
    expect(held).toBeGreaterThanOrEqual(5);
    expect(held).toBeLessThan(20);
    const { records, results } = await readAtLeast(source, 60);
    expect(values(records)).toEqual(expected);
    await settleAll(results);
    expect(source.metrics.pausedPartitions).toBe(0);
  });

  it("subscribes to every topic matching topicPattern", async () => {
    const prefix = uniqueName("pattern");
    const first = await suite.newTopicNamed(`${prefix}-a`);
    const second = await suite.newTopicNamed(`${prefix}-b`);
    await produceTo(first, 0, ["from-a"]);
    await produceTo(second, 0, ["from-b"]);
    const source = createKafkaSource(registry, {
      ...sourceConfig(first),
      topics: undefined,
      topicPattern: `^${prefix}-(a|b)$`,
    });
    await source.connect(signal());
    expect(source.assignment()).toEqual([`${first}-0`, `${second}-0`]);
    const { records } = await readAtLeast(source, 2);
    expect(records.map((record) => `${record.partition}:${text(record.value)}`).sort()).toEqual([
      `${first}-0:from-a`,
      `${second}-0:from-b`,
    ]);
  });

  it("rebalances: a kept partition continues exactly, a moved one restarts at its committed offset", async () => {
    const topic = await suite.newTopic("source", 2);
    const groupId = uniqueName("rebalance");
    const config = sourceConfig(topic, { groupId, sessionTimeoutMs: 10_000 });
    const batch = (round: string) => [0, 1].map((p) => [0, 1].map((i) => `${round}-p${p}-${i}`));
    const [r1p0, r1p1] = batch("r1") as [string[], string[]];
    await produceTo(topic, 0, r1p0);
    await produceTo(topic, 1, r1p1);
    const a = createKafkaSource(registry, config);
    await a.connect(signal());
    expect(a.assignment()).toEqual([`${topic}-0`, `${topic}-1`]);
    await settleAll((await readAtLeast(a, 4)).results);

    // Records read by A but not yet acknowledged when the group rebalances.
    const [r2p0, r2p1] = batch("r2") as [string[], string[]];
    await produceTo(topic, 0, r2p0);
    await produceTo(topic, 1, r2p1);
    const inFlight = await readAtLeast(a, 4);

    const b = await secondMember(a, config);
    const kept = a.assignment()[0] as string;
    const moved = b.assignment()[0] as string;
    expect([kept, moved].sort()).toEqual([`${topic}-0`, `${topic}-1`]);
    const keptIndex = Number(kept.slice(-1));
    const movedIndex = Number(moved.slice(-1));
    // A's late acknowledgement commits its kept partition only.
    await settleAll(inFlight.results);
    const committed = await committedOffsets(suite.admin, groupId, topic);
    expect(committed.get(keptIndex)).toBe("4");
    expect(committed.get(movedIndex)).toBe("2");

    const [r3p0, r3p1] = batch("r3") as [string[], string[]];
    await produceTo(topic, 0, r3p0);
    await produceTo(topic, 1, r3p1);
    const rounds = { r2: [r2p0, r2p1], r3: [r3p0, r3p1] };
    const fromA = await readAtLeast(a, 2);
    expect(values(fromA.records)).toEqual(rounds.r3[keptIndex]);
    expect((await a.read(signal())).records).toEqual([]);
    // The moved partition starts at its committed offset: A's unacknowledged reads come again.
    const fromB = await readAtLeast(b, 4);
    expect(values(fromB.records)).toEqual([
      ...(rounds.r2[movedIndex] ?? []),
      ...(rounds.r3[movedIndex] ?? []),
    ]);
    await settleAll(fromA.results);
    await settleAll(fromB.results);
    const final = await committedOffsets(suite.admin, groupId, topic);
    expect(final.get(0)).toBe("6");
    expect(final.get(1)).toBe("6");
  });

  it("a run stopped before its first commit is resumed from where it started, not at the end", async () => {
    const topic = await suite.newTopic("source", 2);
    const config = sourceConfig(topic, { startFrom: "latest" });
    const first = createKafkaSource(registry, config);
    await first.connect(signal());
    await produceTo(topic, 0, ["p0-a"]);
    await produceTo(topic, 1, ["p1-a"]);
    // Read but never acknowledged: the run dies (close commits nothing, as a kill does).
    await readAtLeast(first, 2);
    await first.close();
    await produceTo(topic, 1, ["p1-b"]);
    const next = createKafkaSource(registry, config);
    await next.connect(signal());
    const { records, results } = await readAtLeast(next, 3);
    expect(values(records).sort()).toEqual(["p0-a", "p1-a", "p1-b"]);
    await settleAll(results);
  });

  it("a partition that moves to a new member before any commit starts where the first member started, not at its end", async () => {
    const topic = await suite.newTopic("source", 2);
    const config = sourceConfig(topic, { startFrom: "latest" });
    const first = createKafkaSource(registry, config);
    await first.connect(signal());
    await produceTo(topic, 0, ["p0-a"]);
    await produceTo(topic, 1, ["p1-a"]);
    // Fetched by the first member, handed out by none, when a second one joins the group.
    await until(() => first.metrics.bufferedRecords === 2, 20_000, "both records fetched");
    const second = await secondMember(first, config);
    const [kept, moved] = await Promise.all([readAtLeast(first, 1), readAtLeast(second, 1)]);
    expect([...values(kept.records), ...values(moved.records)].sort()).toEqual(["p0-a", "p1-a"]);
    await settleAll(kept.results);
    await settleAll(moved.results);
  });

  it("starts at the first record left when its start offset was deleted by retention, though startFrom is latest", async () => {
    const topic = await suite.newTopic("source", 1);
    await produceTo(
      topic,
      0,
      Array.from({ length: 10 }, (_, index) => `r${index}`),
    );
    // Retention deleted offsets 0 to 4 while the job was down; it resumes at offset 2.
    await suite.admin.fetchTopicMetadata({ topics: [topic] });
    await suite.admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "5" }] });
    const source = createKafkaSource(registry, sourceConfig(topic, { startFrom: "latest" }), {
      [`${topic}-0`]: "2",
    });
    await source.connect(signal());
    await produceTo(topic, 0, ["after-connect"]);
    const { records, results } = await readAtLeast(source, 6);
    expect(values(records)).toEqual(["r5", "r6", "r7", "r8", "r9", "after-connect"]);
    await settleAll(results);
  });

  it("in cluster mode too, resumes at the first record left when retention deleted the committed offset, and starts an uncommitted partition at its end", async () => {
    const topic = await suite.newTopic("source", 2);
    const group = uniqueName("cluster");
    await produceTo(
      topic,
      0,
      Array.from({ length: 10 }, (_, index) => `p0-${index}`),
    );
    await produceTo(topic, 1, ["p1-old"]);
    // The job's group committed offset 2 of partition 0, then retention deleted offsets 0 to 4
    // while it was down; partition 1 was never committed.
    await suite.admin.setOffsets({
      groupId: group,
      topic,
      partitions: [{ partition: 0, offset: "2" }],
    });
    await suite.admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "5" }] });
    const membership: ClusterMembership = {
      group,
      processId: "p1",
      kafka: { brokers: BROKERS },
      keyedPartitions: undefined,
      reportPartitions: () => undefined,
      offerKeyedExchange: () => undefined,
    };
    const config = clusterSourceConfig(
      validateConfig(
        kafkaSourceConfig,
        sourceConfig(topic, { startFrom: "latest", sessionTimeoutMs: 6_000 }),
        "kafka",
      ),
      membership,
    );
    const source = new KafkaSource(
      config,
      pino({ level: "silent" }),
      new Map(),
      createKafkaClient,
      {
        membership,
        connectorId: "kafka-1",
      },
    );
    try {
      await source.connect(signal());
      await produceTo(topic, 1, ["p1-new"]);
      const { records, results } = await readAtLeast(source, 6);
      expect(values(records).sort()).toEqual(["p0-5", "p0-6", "p0-7", "p0-8", "p0-9", "p1-new"]);
      await settleAll(results);
    } finally {
      await source.close();
    }
  });

  it("reads a partition added while it runs from its first record, though it starts new partitions at the latest", async () => {
    const topic = await suite.newTopic("source", 1);
    const config = sourceConfig(topic, { startFrom: "latest", metadataMaxAgeMs: 2_000 });
    const source = createKafkaSource(registry, config);
    await source.connect(signal());
    await produceTo(topic, 0, ["p0-a"]);
    await settleAll((await readAtLeast(source, 1)).results);
    // Records reach the new partition before the source learns of it at its next metadata
    // refresh: they came after the job started, and none may be skipped.
    await suite.admin.createPartitions({ topicPartitions: [{ topic, count: 2 }] });
    // A new producer: kafkajs's suite.producer drops records for a partition its metadata lacks.
    const late = await connectProducer(suite.kafka);
    try {
      await late.send({
        topic,
        messages: ["p1-a", "p1-b"].map((value) => ({ value, partition: 1 })),
      });
      await until(
        () => source.assignment().includes(`${topic}-1`),
        20_000,
        "the assignment of the added partition",
      );
      await late.send({
        topic,
        messages: [
          { value: "p1-c", partition: 1 },
          { value: "p0-b", partition: 0 },
        ],
      });
    } finally {
      await late.disconnect();
    }
    const { records, results } = await readAtLeast(source, 4);
    expect(values(records).sort()).toEqual(["p0-b", "p1-a", "p1-b", "p1-c"]);
    await settleAll(results);
    const committed = await committedOffsets(suite.admin, config.groupId, topic);
    expect(committed.get(1)).toBe("3");
  });

  it("fetches a partition that moved away while the source was paused once it comes back", async () => {
    // kafkajs keeps a consumer's pauses across rebalances, of partitions it gave up too.
    const topic = await suite.newTopic("source", 2);
    const config = sourceConfig(topic, { groupId: uniqueName("paused"), sessionTimeoutMs: 10_000 });
    const a = createKafkaSource(registry, config);
    await a.connect(signal());
    a.pause();
    const b = await secondMember(a, config);
    a.resume();
    await b.close();
    await until(() => a.assignment().length === 2, 20_000, "the partition back with A");
    await produceTo(topic, 0, ["p0"]);
    await produceTo(topic, 1, ["p1"]);
    const { records, results } = await readAtLeast(a, 2);
    expect(values(records).sort()).toEqual(["p0", "p1"]);
    await settleAll(results);
  });

  it("names the address and what to check when no broker answers", async () => {
    const closed = "127.0.0.1:19092";
    const source = createKafkaSource(registry, {
      ...sourceConfig("orders"),
      brokers: [closed],
      retries: 0,
    });
    const failure = await source.connect(signal()).then(
      () => undefined,
      (error: unknown) => error as Error & { code?: string },
    );
    expect(failure?.code).toBe("SLUICE_NOT_CONNECTED");
    expect(failure?.message).toContain(`Cannot reach Kafka at ${closed}`);
    expect(failure?.message).toContain(`Is Kafka running at ${closed}?`);
    await expect(checkConnection({ brokers: [closed] })).rejects.toMatchObject({
      code: "SLUICE_NOT_CONNECTED",
      message: expect.stringContaining(`Is Kafka running at ${closed}?`),
    });
  });

  it("says that the listener takes no SASL when given a login for the plain port", async () => {
    const sasl = {
      mechanism: "scram-sha-512",
      username: "sluice",
      password: "sluice-secret",
    } as const;
    await expect(checkConnection({ brokers: BROKERS, sasl, retries: 0 })).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_REFUSED",
      message: expect.stringContaining('the listener at that port takes no SASL. Check "brokers"'),
    });
  });

  it("checkConnection describes the cluster", async () => {
    const info = await checkConnection({ brokers: BROKERS });
    expect(info.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(info.brokers).toContain(BROKER);
  });
});
