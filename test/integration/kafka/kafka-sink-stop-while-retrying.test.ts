// The Kafka sink against the local broker when the job stops without draining while kafkajs
// retries a send inside the write: the topic does not exist and may not be created on first use
// (allowAutoTopicCreation off), so kafkajs asks for its metadata again and again, up to
// `retries` times (here 1000: minutes). The write gives up while the topic is still missing,
// with an I/O error, and nothing of its batch counts as written: a plain write, a transaction of
// the sink's own (aborted), a transaction paired with a Kafka source (aborted, no offsets
// committed, the input delivered again), and a whole job stopped with ctx.stop(). Once the
// topic exists, the sink connects again and writes.
import { Writable } from "node:stream";
import pino from "pino";
import { ConnectorRegistry } from "sluice/advanced";
import { defineSink, type Sink, type SinkRecord, type WriteBatchContext } from "sluice/connector";
import { describe, expect, it } from "vitest";
import {
  KafkaSink,
  kafkaSink,
  kafkaSinkConfig,
  kafkaSource,
} from "../../../connectors/kafka/src/index.js";
import { queuedJob } from "../../support/queued-job.js";
import { stoppableWrite } from "../../support/stoppable-write.js";
import { writeOverNewConnection } from "../../support/write-over-new-connection.js";
import { BROKERS, committedOffsets, readTopic, uniqueName } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";
import { createKafkaSink, createKafkaSource, readAtLeast, settleAll } from "./source-harness.js";

const suite = kafkaSuite();
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const signal = () => AbortSignal.timeout(30_000);
const backoff = { initialDelayMs: 50, maxDelayMs: 200, multiplier: 2, jitter: 0 };
const stopReason = () => new Error("the StreamingContext is stopping without draining");
/** What kafkajs logs (as a warning) at every metadata answer without the topic. */
const NO_TOPIC = "does not host this topic-partition";

/** A logger keeping its lines, with a wait for how often one of them said something. */
class WatchedLog {
  readonly lines: string[] = [];
  readonly logger: pino.Logger;
  readonly #waiters = new Set<() => void>();

  constructor() {
    const lines = this.lines;
    const waiters = this.#waiters;
    this.logger = pino(
      { level: "info" },
      new Writable({
        write(chunk: Buffer | string, _encoding, callback): void {
          lines.push(String(chunk));
          for (const wake of [...waiters]) wake();
          callback();
        },
      }),
    );
  }

  /** Resolves once at least `times` lines contain `text`. */
  saidAtLeast(text: string, times: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        if (this.lines.filter((line) => line.includes(text)).length < times) return;
        this.#waiters.delete(wake);
        resolve();
      };
      this.#waiters.add(wake);
      wake();
    });
  }
}

const context = (n: number, partition = 0): WriteBatchContext => ({
  batchTime: 1_700_000_000_000 + n * 1_000,
  partition,
  idempotencyKey: `stop-retrying/${n}/0/${partition}`,
});

async function topicExists(topic: string): Promise<boolean> {
  return (await suite.admin.listTopics()).includes(topic);
}

/** The values of the messages in `topic`, as text. */
async function valuesIn(topic: string): Promise<string[]> {
  return (await readTopic(suite.kafka, suite.admin, topic)).map((message) => message.value);
}

/**
 * Writes `records` as the first batch through `sink`, whose topic is missing, and ends the write
 * as a stop without draining would once kafkajs is retrying; resolves with how the write ended.
 */
async function writeStoppedWhileRetrying(
  sink: Sink,
  log: WatchedLog,
  records: readonly SinkRecord[] = ["a", "b"].map((value) => ({ value: encoder.encode(value) })),
): Promise<unknown> {
  const { stop, outcome } = stoppableWrite(sink, records, context(1));
  // kafkajs has asked for the topic's metadata at least twice: it is retrying.
  await log.saidAtLeast(NO_TOPIC, 2);
  stop.abort(stopReason());
  return outcome;
}

describe("the Kafka sink when the job stops without draining while kafkajs retries", () => {
  it("ends a write whose topic is missing while it is still missing, and writes once the topic exists", async () => {
    const log = new WatchedLog();
    const registry = new ConnectorRegistry({ logger: log.logger }).use(kafkaSink);
    const topic = uniqueName("stop-missing");
    try {
      const sink = createKafkaSink(registry, { brokers: BROKERS, topic, retries: 1_000 });
      await sink.connect(signal());
      expect(await writeStoppedWhileRetrying(sink, log)).toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringContaining(
          `Writing the batch at 1700000001000 (partition 0) to Kafka topic "${topic}" stopped waiting for Kafka at ${BROKERS[0]} because the StreamingContext is stopping without draining`,
        ),
      });
      // The write ended while the cause still holds.
      expect(await topicExists(topic)).toBe(false);
      expect(sink.metrics).toMatchObject({ writes: 0, recordsOut: 0, errors: 1 });

      await suite.newTopicNamed(topic);
      // The producer that kafkajs may still be retrying with is replaced first.
      await writeOverNewConnection(sink, [{ value: encoder.encode("c") }], context(2), signal());
      expect(await valuesIn(topic)).toEqual(["c"]);
      expect(sink.metrics).toMatchObject({ writes: 1, recordsOut: 1 });
    } finally {
      await registry.dispose();
    }
  }, 120_000);

  it("aborts a transaction of its own whose topic is missing, and commits the next write once the topic exists", async () => {
    const log = new WatchedLog();
    const registry = new ConnectorRegistry({ logger: log.logger }).use(kafkaSink);
    const topic = uniqueName("stop-missing-tx");
    const transactionalId = uniqueName("stop-missing-tx-id");
    try {
      const sink = createKafkaSink(registry, {
        brokers: BROKERS,
        topic,
        transactionalId,
        retries: 1_000,
      });
      await sink.connect(signal());
      expect(await writeStoppedWhileRetrying(sink, log)).toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringContaining(
          `stopping without draining. The batch is not acknowledged; its input is processed again on the next run (its transaction in "${transactionalId}" was aborted)`,
        ),
      });
      expect(await topicExists(topic)).toBe(false);
      expect(sink.metrics).toMatchObject({ writes: 0, transactions: 0, errors: 1 });

      await suite.newTopicNamed(topic);
      await sink.connect(signal());
      await sink.writeBatch([{ value: encoder.encode("c") }], context(2));
      expect(await valuesIn(topic)).toEqual(["c"]);
      expect(sink.metrics).toMatchObject({ writes: 1, transactions: 1 });
    } finally {
      await registry.dispose();
    }
  }, 120_000);

  it("aborts a paired transaction whose topic is missing: no offsets committed, and the input is written once after the topic exists", async () => {
    const log = new WatchedLog();
    const registry = new ConnectorRegistry({ logger: log.logger }).use(kafkaSource, kafkaSink);
    const input = await suite.newTopic("stop-paired-in");
    const output = uniqueName("stop-paired-out");
    const groupId = uniqueName("stop-paired-group");
    const transactionalId = uniqueName("stop-paired-tx");
    await suite.producer.send({
      topic: input,
      messages: ["r0", "r1", "r2"].map((value) => ({ value })),
    });
    try {
      const source = createKafkaSource(registry, {
        brokers: BROKERS,
        topics: [input],
        groupId,
        transactionalId,
        startFrom: "earliest",
        pollTimeoutMs: 200,
      });
      const sink = createKafkaSink(registry, {
        brokers: BROKERS,
        topic: output,
        transactionalId,
        retries: 1_000,
      });
      await source.connect(signal());
      await sink.connect(signal());
      const upperCased = (records: readonly { value: Uint8Array }[]) =>
        records.map((record) => ({
          value: encoder.encode(decoder.decode(record.value).toUpperCase()),
        }));

      const first = await readAtLeast(source, 3);
      const failure = await writeStoppedWhileRetrying(sink, log, upperCased(first.records));
      expect(failure).toMatchObject({
        code: "SLUICE_CONNECTOR_IO",
        message: expect.stringContaining(
          `stopping without draining. The batch is not acknowledged; its input is processed again on the next run (its transaction in "${transactionalId}" was aborted)`,
        ),
      });
      expect(await topicExists(output)).toBe(false);
      expect(sink.metrics).toMatchObject({ transactions: 0, aborts: 1, recordsOut: 0 });
      // The batch failed: Sluice nacks its reads, and nothing is committed.
      await settleAll(first.results, failure);
      expect(
        [...(await committedOffsets(suite.admin, groupId, input)).values()].filter(
          (offset) => offset !== "-1",
        ),
      ).toEqual([]);

      // With the topic there, the sink connects again and the input, delivered again, is
      // written and committed once.
      await suite.newTopicNamed(output);
      await sink.connect(signal());
      const again = await readAtLeast(source, 3);
      await sink.writeBatch(upperCased(again.records), context(2));
      await settleAll(again.results);
      expect((await valuesIn(output)).sort()).toEqual(["R0", "R1", "R2"]);
      expect(sink.metrics).toMatchObject({ transactions: 1 });
    } finally {
      await registry.dispose();
    }
  }, 120_000);

  it("ctx.stop() resolves while the topic is still missing, and the batch in progress failed", async () => {
    const log = new WatchedLog();
    // The Kafka sink with the watched logger, so the test sees kafkajs retrying.
    const watchedKafkaSink = defineSink({
      name: "kafka-watched",
      version: "0.1.0",
      description: "the Kafka sink, logging to the test",
      config: kafkaSinkConfig,
      capabilities: { idempotent: false },
      create: (config) => new KafkaSink(config, log.logger),
    });
    const topic = uniqueName("stop-missing-job");
    const { ctx, clock, input, outcomes } = queuedJob(
      "kafka-stop-while-retrying",
      [["a", "b"]],
      watchedKafkaSink,
    );
    input.sink(
      "kafka-watched",
      { brokers: BROKERS, topic, retries: 1_000 },
      { id: "out", backoff },
    );
    try {
      await ctx.start();
      clock.advance(1000);
      await log.saidAtLeast(NO_TOPIC, 2);
      expect(outcomes).toEqual([]);
      await ctx.stop();
      // Reached only if the stop ended while the topic is still missing.
      expect(await topicExists(topic)).toBe(false);
      expect(ctx.state).toBe("STOPPED");
      expect(outcomes).toEqual(["1000 failed"]);
    } finally {
      await ctx.stop();
    }
  }, 120_000);
});
