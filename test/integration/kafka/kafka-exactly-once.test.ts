// Kafka to Kafka exactly once: a source and a sink paired by transactionalId commit a batch's
// outputs and its consumed offsets in one transaction. Driven as Sluice's receiver and output
// do: read, write the batch, then acknowledge every read of the batch together.
import type { Admin, Kafka, Producer } from "kafkajs";
import { type SourceRecord, StreamingContext } from "sluice";
import type { ConnectorRegistry } from "sluice/advanced";
import type { ReadResult } from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type KafkaSink,
  type KafkaSource,
  kafkaSink,
  kafkaSource,
} from "../../../connectors/kafka/src/index.js";
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
import { lockService } from "./services.js";
import {
  createKafkaSink,
  createKafkaSource,
  kafkaRegistry,
  readAtLeast,
} from "./source-harness.js";

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
let registry: ConnectorRegistry;
const topics: string[] = [];
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const signal = () => AbortSignal.timeout(30_000);

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
});

afterAll(async () => {
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  await unlock?.();
});

beforeEach(() => {
  registry = kafkaRegistry();
});

afterEach(async () => {
  await registry.dispose();
});

interface Pipeline {
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly transactionalId: string;
  readonly expected: string[];
}

async function pipeline(records = 12): Promise<Pipeline> {
  const input = uniqueName("eos-in");
  const output = uniqueName("eos-out");
  topics.push(input, output);
  await createTopic(admin, input, 2);
  await createTopic(admin, output, 2);
  const inputs = Array.from({ length: records }, (_, index) => `r${index}`);
  await producer.send({
    topic: input,
    messages: inputs.map((value, index) => ({ key: `k${index % 5}`, value })),
  });
  return {
    input,
    output,
    groupId: uniqueName("eos-group"),
    transactionalId: uniqueName("eos-tx"),
    expected: inputs.map((value) => value.toUpperCase()).sort(),
  };
}

/** The source of `p`, paired with its sink by `transactionalId`, from the earliest offset. */
function pairedSourceConfig(p: Pipeline) {
  return {
    brokers: BROKERS,
    topics: [p.input],
    groupId: p.groupId,
    transactionalId: p.transactionalId,
    startFrom: "earliest",
    pollTimeoutMs: 200,
  } as const;
}

function connectors(p: Pipeline): { source: KafkaSource; sink: KafkaSink } {
  const source = createKafkaSource(registry, { ...pairedSourceConfig(p), maxRecordsPerRead: 3 });
  const sink = createKafkaSink(registry, {
    brokers: BROKERS,
    topic: p.output,
    transactionalId: p.transactionalId,
  });
  return { source, sink };
}

// The batch's job: upper-case every value, keep the key.
async function writeBatch(sink: KafkaSink, records: readonly SourceRecord[], time: number) {
  const outputs = records.map((record) => ({
    ...(record.key ? { key: record.key } : {}),
    value: encoder.encode(decoder.decode(record.value).toUpperCase()),
  }));
  const half = Math.ceil(outputs.length / 2);
  // Two partitions of the batch, as Sluice writes them: two writes, one transaction.
  await sink.writeBatch(outputs.slice(0, half), {
    batchTime: time,
    partition: 0,
    idempotencyKey: `t/${time}/0/0`,
  });
  await sink.writeBatch(outputs.slice(half), {
    batchTime: time,
    partition: 1,
    idempotencyKey: `t/${time}/0/1`,
  });
}

// Sluice settles all reads of a batch at once, without waiting between them.
async function settleBatch(results: readonly ReadResult[], error?: unknown): Promise<void> {
  await Promise.all(
    results.map((result) => (error === undefined ? result.ack() : result.ack(error))),
  );
}

async function outputValues(p: Pipeline, readUncommitted = false): Promise<string[]> {
  return (await readTopic(kafka, admin, p.output, { readUncommitted }))
    .map((message) => message.value)
    .sort();
}

async function expectAllCommitted(p: Pipeline): Promise<void> {
  const committed = await committedOffsets(admin, p.groupId, p.input);
  const ends = await admin.fetchTopicOffsets(p.input);
  for (const { partition, high } of ends) expect(committed.get(partition)).toBe(high);
}

describe("kafka exactly once (paired source and sink)", () => {
  it("commits every batch's outputs and consumed offsets together", async () => {
    const p = await pipeline();
    const { source, sink } = connectors(p);
    await source.connect(signal());
    await sink.connect(signal());
    let time = 1_700_000_000_000;
    let seen = 0;
    let batches = 0;
    while (seen < p.expected.length) {
      // Reads of at most 3 records: a batch of 4 or more holds several reads.
      const { records, results } = await readAtLeast(source, Math.min(4, p.expected.length - seen));
      seen += records.length;
      batches++;
      time += 1_000;
      await writeBatch(sink, records, time);
      await settleBatch(results);
    }
    expect(await outputValues(p)).toEqual(p.expected);
    await expectAllCommitted(p);
    // One transaction per batch, however many reads it held.
    expect(sink.metrics.transactions).toBe(batches);
    expect(source.metrics.commits).toBe(batches);
  });

  it("commits a batch whose outputs to one partition exceed the broker's record-batch limit", async () => {
    // 1200 outputs of about 1 KiB under one key: 1.2 MiB for one partition of the output, over
    // the broker's message.max.bytes (1 MiB), each record far under it.
    const p = await pipeline(1_200);
    const source = createKafkaSource(registry, pairedSourceConfig(p));
    const sink = createKafkaSink(registry, {
      brokers: BROKERS,
      topic: p.output,
      transactionalId: p.transactionalId,
    });
    await source.connect(signal());
    await sink.connect(signal());
    const { records, results } = await readAtLeast(source, p.expected.length);
    const padding = `-${"x".repeat(1_000)}`;
    await sink.writeBatch(
      records.map((record) => ({
        key: encoder.encode("one-key"),
        value: encoder.encode(`${decoder.decode(record.value).toUpperCase()}${padding}`),
      })),
      { batchTime: 1_700_000_001_000, partition: 0, idempotencyKey: "t/1/0/0" },
    );
    await settleBatch(results);
    const written = await outputValues(p);
    expect(written.map((value) => value.replace(padding, "")).sort()).toEqual(p.expected);
    await expectAllCommitted(p);
    expect(sink.metrics).toMatchObject({ transactions: 1, errors: 0 });
  });

  it("keeps one transaction open across batches until their reads are acknowledged together", async () => {
    // As with ctx.checkpoint(dir, { interval }): batches run, then one checkpoint acknowledges
    // all their reads.
    const p = await pipeline(8);
    const { source, sink } = connectors(p);
    await source.connect(signal());
    await sink.connect(signal());
    const first = await readAtLeast(source, 4);
    await writeBatch(sink, first.records, 1_700_000_001_000);
    const second = await readAtLeast(source, 8 - first.records.length);
    await writeBatch(sink, second.records, 1_700_000_002_000);
    expect(sink.metrics.transactions).toBe(0);
    await settleBatch([...first.results, ...second.results]);
    expect(sink.metrics.transactions).toBe(1);
    expect(await outputValues(p)).toEqual(p.expected);
    await expectAllCommitted(p);
    // A read that brought nothing still commits what the batches since the last commit wrote.
    const quiet = await source.read(signal());
    expect(quiet.records).toEqual([]);
    await sink.writeBatch([{ value: encoder.encode("EXTRA") }], {
      batchTime: 1_700_000_003_000,
      partition: 0,
      idempotencyKey: "t/3/0/0",
    });
    await settleBatch([quiet]);
    expect(await outputValues(p)).toEqual([...p.expected, "EXTRA"].sort());
  });

  it("commits nothing on an idle read's acknowledgement while a batch's reads are unacknowledged", async () => {
    const p = await pipeline(4);
    const { source, sink } = connectors(p);
    await source.connect(signal());
    await sink.connect(signal());
    const batch = await readAtLeast(source, 4);
    await writeBatch(sink, batch.records, 1_700_000_001_000);
    // An idle poll while the batch runs: Sluice settles it at once.
    const quiet = await source.read(signal());
    expect(quiet.records).toEqual([]);
    await settleBatch([quiet]);
    await new Promise(setImmediate);
    expect(sink.metrics.transactions).toBe(0);
    await settleBatch(batch.results);
    expect(sink.metrics.transactions).toBe(1);
    expect(await outputValues(p)).toEqual(p.expected);
    await expectAllCommitted(p);
  });

  it("rolls back the outputs of a failed batch and delivers its input again", async () => {
    const p = await pipeline(6);
    const { source, sink } = connectors(p);
    await source.connect(signal());
    await sink.connect(signal());
    const first = await readAtLeast(source, 6);
    await writeBatch(sink, first.records, 1_700_000_001_000);
    // Another output of the batch failed: Sluice nacks its reads.
    await settleBatch(first.results, new Error("another output failed"));
    expect(sink.metrics.aborts).toBe(1);
    const again = await readAtLeast(source, 6);
    await writeBatch(sink, again.records, 1_700_000_002_000);
    await settleBatch(again.results);
    expect(await outputValues(p)).toEqual(p.expected);
    // The rolled-back copies did reach the log; read_committed consumers never see them.
    expect(await outputValues(p, true)).toEqual([...p.expected, ...p.expected].sort());
    await expectAllCommitted(p);
  });

  it("after a crash mid-batch, the next run redoes the batch and nothing is doubled", async () => {
    const p = await pipeline(9);
    const firstRun = connectors(p);
    await firstRun.source.connect(signal());
    await firstRun.sink.connect(signal());
    const done = await readAtLeast(firstRun.source, 3);
    await writeBatch(firstRun.sink, done.records, 1_700_000_001_000);
    await settleBatch(done.results);
    const interrupted = await readAtLeast(firstRun.source, 9 - done.records.length);
    await writeBatch(firstRun.sink, interrupted.records, 1_700_000_002_000);
    // The process dies before the batch is acknowledged: nothing of it commits.
    await firstRun.source.close();
    await firstRun.sink.close();
    expect(await outputValues(p)).toEqual(
      done.records.map((record) => decoder.decode(record.value).toUpperCase()).sort(),
    );

    const secondRun = connectors(p);
    await secondRun.source.connect(signal());
    await secondRun.sink.connect(signal());
    const redo = await readAtLeast(secondRun.source, interrupted.records.length);
    expect(redo.records.map((record) => decoder.decode(record.value)).sort()).toEqual(
      interrupted.records.map((record) => decoder.decode(record.value)).sort(),
    );
    await writeBatch(secondRun.sink, redo.records, 1_700_000_002_000);
    await settleBatch(redo.results);
    expect(await outputValues(p)).toEqual(p.expected);
    await expectAllCommitted(p);
  });

  it("says what to do when another producer with the same transactionalId fenced the pair", async () => {
    const p = await pipeline(4);
    const { source, sink } = connectors(p);
    await source.connect(signal());
    await sink.connect(signal());
    const { records, results } = await readAtLeast(source, 2);
    await writeBatch(sink, records, 1_700_000_001_000);
    // A second copy of the job starting with the same id fences this one.
    const other = kafka.producer({
      transactionalId: p.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await other.connect();
    try {
      await (await other.transaction()).abort();
      await settleBatch(results);
      await expect(source.read(signal())).rejects.toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringMatching(
          new RegExp(
            `Another producer with transactionalId "${p.transactionalId}" started since this one.*Only one running job may use a transactionalId.*cluster mode`,
          ),
        ),
      });
    } finally {
      await other.disconnect();
    }
    // Nothing of the fenced transaction is visible.
    expect(await outputValues(p)).toEqual([]);
  });

  it("fails the source, naming the transactionalId, when no sink of that id is connected", async () => {
    const p = await pipeline(2);
    const { source } = connectors(p);
    await source.connect(signal());
    const { results } = await readAtLeast(source, 2);
    await settleBatch(results);
    await expect(source.read(signal())).rejects.toMatchObject({
      code: "SLUICE_CONNECTOR_IO",
      message: expect.stringContaining(`No Kafka sink with transactionalId "${p.transactionalId}"`),
    });
    expect((await committedOffsets(admin, p.groupId, p.input)).get(0)).toBe("-1");
  });
});

describe("a paired source and sink in a job", () => {
  // The job of `p` (values upper-cased into the paired sink), with `concurrentJobs` batches at once.
  function pairedJob(p: Pipeline, concurrentJobs: number, clock: ManualClock): StreamingContext {
    const ctx = new StreamingContext({ batchInterval: 1000, clock, concurrentJobs });
    ctx.use(kafkaSource, kafkaSink);
    ctx
      .source("kafka", pairedSourceConfig(p), { id: "orders" })
      .map((record) => decoder.decode(record.value).toUpperCase())
      .sink("kafka", { brokers: BROKERS, topic: p.output, transactionalId: p.transactionalId });
    return ctx;
  }

  it("is refused at start with concurrentJobs 2, and runs exactly once with 1", async () => {
    const p = await pipeline(6);
    const overlapping = pairedJob(p, 2, new ManualClock(0));
    expect(() => overlapping.start()).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_CONFIG",
        message: expect.stringMatching(
          new RegExp(
            `concurrentJobs: 2.*source "orders".*Kafka sink with transactionalId "${p.transactionalId}".*Use concurrentJobs: 1`,
          ),
        ),
      }),
    );
    await overlapping.stop();
    // Refused before connecting: the group committed nothing, the output topic holds nothing.
    expect([...(await committedOffsets(admin, p.groupId, p.input)).values()]).toEqual(["-1", "-1"]);
    expect(await outputValues(p, true)).toEqual([]);

    const clock = new ManualClock(0);
    const ctx = pairedJob(p, 1, clock);
    await ctx.start();
    try {
      // A batch a second until the group's commits reach the end of the input (at most 60).
      const ends = await admin.fetchTopicOffsets(p.input);
      const caughtUp = async () => {
        const committed = await committedOffsets(admin, p.groupId, p.input);
        return ends.every(({ partition, high }) => committed.get(partition) === high);
      };
      for (let batch = 1; batch <= 60 && !(await caughtUp()); batch++) {
        clock.advance(1000);
        await ctx.scope.awaitProcessed(batch * 1000);
        await new Promise(setImmediate);
      }
      expect(ctx.scope.firstError()).toBeUndefined();
      expect(await caughtUp()).toBe(true);
      expect(await outputValues(p)).toEqual(p.expected);
    } finally {
      await ctx.stop();
    }
  });
});
