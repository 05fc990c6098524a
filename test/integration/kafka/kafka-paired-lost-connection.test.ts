// A Kafka source and sink paired by transactionalId (exactly once) lose their connection to the
// broker at each step of a transaction: requests of one kind are cut off before they leave, or
// their answer is (request-faults.ts, through the connectors' socket factory). What the pair
// can redo it redoes in a new transaction; a commit whose outcome it cannot know stops the
// source, and the next run resumes exactly. Every input record is in the output once.
import type { Admin, Kafka, Producer } from "kafkajs";
import { StreamingContext } from "sluice";
import type { ConnectorRegistry, SourceInputDStream } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type KafkaSink, kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import {
  BROKERS,
  committedOffsets,
  connectAdmin,
  connectProducer,
  createTopic,
  readTopic,
  testKafka,
  uniqueName,
} from "./kafka-helpers.js";
import { API_KEYS, armFault, disarmFaults, faultsFired } from "./request-faults.js";
import { lockService } from "./services.js";
import {
  createKafkaSink,
  createKafkaSource,
  kafkaRegistry,
  readAtLeast,
} from "./source-harness.js";

vi.mock("../../../connectors/kafka/src/kafka-socket.js", async (importOriginal) => {
  const original =
    await importOriginal<typeof import("../../../connectors/kafka/src/kafka-socket.js")>();
  const { faultySocketFactory } = await import("./request-faults.js");
  return {
    ...original,
    guardedSocketFactory: () => faultySocketFactory(original.guardedSocketFactory()),
  };
});

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
const topics: string[] = [];
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const signal = () => AbortSignal.timeout(30_000);
let registry: ConnectorRegistry;

beforeEach(() => {
  registry = kafkaRegistry();
});

afterEach(async () => {
  disarmFaults();
  await registry.dispose();
});

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
});

afterAll(async () => {
  disarmFaults();
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

describe("a paired Kafka job whose broker connection is lost at a batch's first write", () => {
  it("writes the batch again in a new transaction: nothing lost or doubled, no error", async () => {
    const input = uniqueName("lost-in");
    const output = uniqueName("lost-out");
    topics.push(input, output);
    await createTopic(admin, input, 1);
    await createTopic(admin, output, 1);
    const transactionalId = uniqueName("lost-tx");
    const groupId = uniqueName("lost-group");
    const send = (values: string[]) =>
      producer.send({ topic: input, messages: values.map((value) => ({ value })) });

    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    ctx.use(kafkaSource, kafkaSink);
    const orders = ctx.source(
      "kafka",
      { brokers: BROKERS, topics: [input], groupId, transactionalId, startFrom: "earliest" },
      { id: "orders" },
    ) as SourceInputDStream;
    orders
      .map((record) => decoder.decode(record.value).toUpperCase())
      .sink(
        "kafka",
        // One retry of kafkajs's own: its retries end long before the connection comes back.
        { brokers: BROKERS, topic: output, transactionalId, retries: 1 },
        { id: "out", backoff: { initialDelayMs: 20, maxDelayMs: 100, multiplier: 2, jitter: 0 } },
      );
    let batch = 0;
    // Runs batches until the group's commit reaches the input's end.
    const runUntilCommitted = async () => {
      const [end] = await admin.fetchTopicOffsets(input);
      for (let tries = 0; tries < 60; tries++) {
        const committed = await committedOffsets(admin, groupId, input);
        if (committed.get(0) === end?.high) return;
        batch++;
        clock.advance(1000);
        await ctx.scope.awaitProcessed(batch * 1000);
        await new Promise(setImmediate);
      }
      throw new Error("the group's commits never reached the end of the input");
    };
    await ctx.start();
    try {
      await send(["a", "b", "c"]);
      await runUntilCommitted();

      // The next batch's first write loses its connection at every produce request.
      await send(["d", "e"]);
      armFault(API_KEYS.Produce, "request lost", Number.POSITIVE_INFINITY);
      const firedBefore = faultsFired();
      await vi.waitFor(() => expect(orders.hasPendingData()).toBe(true), { timeout: 30_000 });
      batch++;
      clock.advance(1000);
      // kafkajs gave up twice (two writes, each with one retry of its own) and the sink
      // reconnected in between: the framework is retrying, and the batch is not done.
      await vi.waitFor(() => expect(faultsFired() - firedBefore).toBeGreaterThanOrEqual(4), {
        timeout: 60_000,
        interval: 20,
      });
      expect(ctx.scope.firstError()).toBeUndefined();
      disarmFaults();
      await ctx.scope.awaitProcessed(batch * 1000);
      await runUntilCommitted();

      await send(["f"]);
      await runUntilCommitted();
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      disarmFaults();
      await ctx.stop();
    }
    const written = await readTopic(kafka, admin, output);
    expect(written.map((message) => message.value).sort()).toEqual(["A", "B", "C", "D", "E", "F"]);
  }, 120_000);
});

interface Pair {
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly transactionalId: string;
  readonly expected: string[];
}

async function pair(records: number): Promise<Pair> {
  const input = uniqueName("step-in");
  const output = uniqueName("step-out");
  topics.push(input, output);
  await createTopic(admin, input, 2);
  await createTopic(admin, output, 2);
  const values = Array.from({ length: records }, (_, index) => `r${index}`);
  await producer.send({
    topic: input,
    messages: values.map((value, index) => ({ key: `k${index % 3}`, value })),
  });
  return {
    input,
    output,
    groupId: uniqueName("step-group"),
    transactionalId: uniqueName("step-tx"),
    expected: values.map((value) => value.toUpperCase()).sort(),
  };
}

/** A run of the pair: its source and sink, connected, with kafkajs retrying once. */
async function run(p: Pair) {
  const source = createKafkaSource(registry, {
    brokers: BROKERS,
    topics: [p.input],
    groupId: p.groupId,
    transactionalId: p.transactionalId,
    startFrom: "earliest",
    pollTimeoutMs: 200,
    retries: 1,
  });
  const sink = createKafkaSink(registry, {
    brokers: BROKERS,
    topic: p.output,
    transactionalId: p.transactionalId,
    retries: 1,
  });
  await source.connect(signal());
  await sink.connect(signal());
  return { source, sink };
}

// The batch's outputs (values upper-cased) in two partitions, as Sluice writes them.
function halves(records: readonly { value: Uint8Array }[]) {
  const outputs = records.map((record) => ({
    value: encoder.encode(decoder.decode(record.value).toUpperCase()),
  }));
  const half = Math.ceil(outputs.length / 2);
  return [outputs.slice(0, half), outputs.slice(half)] as const;
}

const context = (partition: number) => ({
  batchTime: 1_700_000_001_000,
  partition,
  idempotencyKey: `t/1/0/${partition}`,
});

async function settle(results: readonly ReadResult[]): Promise<void> {
  await Promise.all(results.map((result) => result.ack()));
}

async function outputValues(p: Pair, readUncommitted = false): Promise<string[]> {
  return (await readTopic(kafka, admin, p.output, { readUncommitted }))
    .map((message) => message.value)
    .sort();
}

const textOf = (output: { value: Uint8Array }) => decoder.decode(output.value);

async function expectAllCommitted(p: Pair): Promise<void> {
  const committed = await committedOffsets(admin, p.groupId, p.input);
  const ends = await admin.fetchTopicOffsets(p.input);
  // A partition the keys left empty has nothing to commit.
  for (const { partition, high } of ends) {
    expect(committed.get(partition)).toBe(high === "0" ? "-1" : high);
  }
}

// Writes the second half as Sluice's sink session does: after a lost connection, reconnect and
// write it again.
async function writeAgainAfterLoss(sink: KafkaSink, outputs: readonly { value: Uint8Array }[]) {
  await expect(sink.writeBatch(outputs, context(1))).rejects.toMatchObject({
    code: "SLUICE_NOT_CONNECTED",
  });
  disarmFaults();
  await sink.connect(signal());
  await sink.writeBatch(outputs, context(1));
}

describe("a paired Kafka source and sink losing the broker at each step of a transaction", () => {
  it("a later write of the open transaction: the transaction is made again with every write", async () => {
    const p = await pair(8);
    const { source, sink } = await run(p);
    const { records, results } = await readAtLeast(source, 8);
    const [first, second] = halves(records);
    await sink.writeBatch(first, context(0));
    armFault(API_KEYS.Produce, "request lost", Number.POSITIVE_INFINITY);
    await writeAgainAfterLoss(sink, second);
    await settle(results);
    expect((await source.read(signal())).records).toEqual([]);
    expect(await outputValues(p)).toEqual(p.expected);
    // The first half reached the log twice: in the transaction rolled back, and again.
    expect(await outputValues(p, true)).toEqual([...p.expected, ...first.map(textOf)].sort());
    expect(sink.metrics).toMatchObject({ transactions: 1, aborts: 1 });
    await expectAllCommitted(p);
  });

  it("the commit's offsets: the transaction is made again and commits", async () => {
    const p = await pair(6);
    const { source, sink } = await run(p);
    const { records, results } = await readAtLeast(source, 6);
    const [first, second] = halves(records);
    await sink.writeBatch(first, context(0));
    await sink.writeBatch(second, context(1));
    const fired = faultsFired();
    armFault(API_KEYS.TxnOffsetCommit, "request lost");
    await settle(results);
    expect(faultsFired()).toBe(fired + 1);
    expect((await source.read(signal())).records).toEqual([]);
    expect(await outputValues(p)).toEqual(p.expected);
    // Every output reached the log twice: in the transaction rolled back, and again.
    expect(await outputValues(p, true)).toEqual([...p.expected, ...p.expected].sort());
    expect(sink.metrics).toMatchObject({ transactions: 1, aborts: 1 });
    await expectAllCommitted(p);
  });

  for (const point of ["answer lost", "request lost"] as const) {
    it(`the commit itself, ${point}: the source stops, and the next run resumes exactly`, async () => {
      const p = await pair(6);
      const first = await run(p);
      const { records, results } = await readAtLeast(first.source, 6);
      const [a, b] = halves(records);
      await first.sink.writeBatch(a, context(0));
      await first.sink.writeBatch(b, context(1));
      armFault(API_KEYS.EndTxn, point);
      await settle(results);
      // Whether the broker committed is not known here: the run stops, naming what to do.
      await expect(first.source.read(signal())).rejects.toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringContaining("restart the job"),
      });
      await first.source.close();
      await first.sink.close();

      const second = await run(p);
      if (point === "request lost") {
        // Never committed: the next run's producer aborted it, and the batch is redone.
        const redo = await readAtLeast(second.source, 6);
        const [c, d] = halves(redo.records);
        await second.sink.writeBatch(c, context(0));
        await second.sink.writeBatch(d, context(1));
        await settle(redo.results);
      }
      expect((await second.source.read(signal())).records).toEqual([]);
      expect(await outputValues(p)).toEqual(p.expected);
      await expectAllCommitted(p);
    });
  }
});
