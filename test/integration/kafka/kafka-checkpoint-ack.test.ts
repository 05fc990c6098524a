// Kafka to Kafka exactly once under ctx.checkpoint(dir, { interval }): the paired sink keeps one
// transaction open across batches, and the checkpoint's acknowledgements commit it with the
// consumed offsets. A checkpoint written slowly must not let the next batch's outputs into that
// transaction: committed with the earlier offsets, they would be output again after a crash.
// The checkpoint is held (its final rename waits for the test) while the next batch comes due.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka, Producer } from "kafkajs";
import { closeConnectorsOf, StreamingContext } from "sluice";
import type { DurableFile, DurableFileSystem } from "sluice/advanced";
import { FaultInjectingFileSystem, ManualClock } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KafkaSource, kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import { SourceInputDStream } from "../../../core/src/plugins/source-input-dstream.js";
import { lockServers } from "../../support/service-lock.js";
import {
  BROKERS,
  committedOffsets,
  connectAdmin,
  connectProducer,
  createTopic,
  readTopic,
  testKafka,
  uniqueName,
  until,
} from "./kafka-helpers.js";

let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
let directory: string;
const topics: string[] = [];
const decoder = new TextDecoder();

beforeAll(async () => {
  unlock = await lockServers(["kafka"]);
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
  directory = await mkdtemp(join(tmpdir(), "sluice-kafka-checkpoint-ack-"));
  // The lock may be held by another suite for a while (lockServers waits up to 300 s).
}, 320_000);

afterAll(async () => {
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  if (directory) await rm(directory, { recursive: true, force: true });
  await unlock?.();
});

/** The real file system, except that the rename completing the checkpoint at `time` waits. */
class CheckpointHeldAt implements DurableFileSystem {
  /** The file system under it, to fail its writes on demand. */
  readonly inner = new FaultInjectingFileSystem();
  readonly #name: string;
  #release: () => void = () => undefined;
  readonly #released = new Promise<void>((resolve) => {
    this.#release = resolve;
  });
  held = false;
  written = false;

  constructor(time: number) {
    this.#name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
  }

  release(): void {
    this.#release();
  }

  async rename(from: string, to: string): Promise<void> {
    if (!to.endsWith(this.#name)) return this.inner.rename(from, to);
    this.held = true;
    await this.#released;
    await this.inner.rename(from, to);
    this.written = true;
  }

  mkdir(path: string): Promise<void> {
    return this.inner.mkdir(path);
  }
  list(path: string): Promise<string[]> {
    return this.inner.list(path);
  }
  readFile(path: string): Promise<Uint8Array> {
    return this.inner.readFile(path);
  }
  size(path: string): Promise<number | undefined> {
    return this.inner.size(path);
  }
  open(path: string, mode: "create" | "append"): Promise<DurableFile> {
    return this.inner.open(path, mode);
  }
  remove(path: string): Promise<void> {
    return this.inner.remove(path);
  }
  syncDirectory(path: string): Promise<void> {
    return this.inner.syncDirectory(path);
  }
}

interface Job {
  readonly ctx: StreamingContext;
  readonly records: SourceInputDStream;
  readonly source: KafkaSource;
}

/**
 * The job, through getOrCreate: every value upper-cased, one batch of every two output (a
 * window of 1 s every 2 s), to a Kafka sink paired with the source. The batches at odd seconds
 * run no job; with checkpoints every 3 s, the one at 3000 is such a batch's.
 */
async function startJob(
  names: { input: string; output: string; groupId: string; transactionalId: string },
  clock: ManualClock,
  fileSystem: DurableFileSystem,
): Promise<Job> {
  let records: unknown;
  const ctx = await StreamingContext.getOrCreate(
    join(directory, names.transactionalId),
    () => {
      const created = new StreamingContext({ batchInterval: 1000, clock, appName: "ckpt-ack" });
      created.use(kafkaSource, kafkaSink);
      const input = created.source("kafka", {
        brokers: BROKERS,
        topics: [names.input],
        groupId: names.groupId,
        transactionalId: names.transactionalId,
        startFrom: "earliest",
        pollTimeoutMs: 100,
      });
      input
        .map((record) => decoder.decode(record.value).toUpperCase())
        .window(1000, 2000)
        .sink("kafka", {
          brokers: BROKERS,
          topic: names.output,
          transactionalId: names.transactionalId,
        });
      records = input;
      return created;
    },
    { interval: 3000, fileSystem },
  );
  if (!(records instanceof SourceInputDStream)) throw new Error("expected a connector input");
  const source = records.connector.connector;
  if (!(source instanceof KafkaSource)) throw new Error("expected a KafkaSource");
  await ctx.start();
  return { ctx, records, source };
}

async function outputValues(topic: string): Promise<string[]> {
  return (await readTopic(kafka, admin, topic)).map((message) => message.value);
}

describe("kafka exactly once with checkpoints every few batches", () => {
  it("a slow checkpoint commits only the outputs of the input it acknowledges: after a crash nothing is output twice", async () => {
    const names = {
      input: uniqueName("ckpt-ack-in"),
      output: uniqueName("ckpt-ack-out"),
      groupId: uniqueName("ckpt-ack-group"),
      transactionalId: uniqueName("ckpt-ack-tx"),
    };
    topics.push(names.input, names.output);
    await createTopic(admin, names.input, 1);
    await createTopic(admin, names.output, 1);
    const fs = new CheckpointHeldAt(3000);
    const clock = new ManualClock(0);
    const { ctx, records, source } = await startJob(names, clock, fs);
    const submitted: number[] = [];
    const started: number[] = [];
    const outputDone: number[] = [];
    ctx.addListener({
      onBatchSubmitted: (info) => submitted.push(info.batchTime),
      onBatchStarted: (info) => started.push(info.batchTime),
      onOutputOperationCompleted: (info) => outputDone.push(info.batchTime),
    });
    let produced = 0;
    // Produces `value`, waits until the source handed it to the input, then lets its batch come.
    const batchOf = async (value: string, time: number) => {
      await producer.send({ topic: names.input, messages: [{ value }] });
      produced++;
      await until(
        () => source.metrics.recordsIn === produced && records.hasPendingData(),
        30_000,
        `${value} read`,
      );
      clock.advance(time - clock.now());
    };

    try {
      await batchOf("r1", 1000);
      await ctx.scope.awaitProcessed(1000);
      await batchOf("r2", 2000);
      await ctx.scope.awaitProcessed(2000);
      await batchOf("r3", 3000);
      await until(() => fs.held, 30_000, "the checkpoint at 3000 being written");
      await batchOf("r4", 4000);
      // The batch at 4000 comes while the checkpoint at 3000 is still being written. With no
      // other batch running, a scheduler that does not wait for that checkpoint starts the
      // batch as it submits it: it is then let finish (writing R4 into the open transaction)
      // before the checkpoint goes on. Otherwise the batch waits for the checkpoint.
      await until(() => submitted.includes(4000), 30_000, "the batch at 4000 submitted");
      if (started.includes(4000)) {
        await until(() => outputDone.includes(4000), 30_000, "the output at 4000");
      }
      fs.release();
      await ctx.scope.awaitProcessed(4000);
      // The acknowledgements of r1, r2 and r3 commit the transaction with their offsets.
      await until(() => source.metrics.commits >= 1, 30_000, "the transaction of 3000");
      expect(ctx.scope.firstError()).toBeUndefined();
      expect(outputDone).toEqual([2000, 4000]);
    } finally {
      fs.release();
      // The process dies: no checkpoint can be written any more (so nothing more is
      // acknowledged), and what the sink's transaction holds is never committed.
      fs.inner.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // What a restart starts from: the offsets after r3, and the outputs of r1, r2 and r3.
    expect.soft((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("3");
    expect.soft(await outputValues(names.output)).toEqual(["R2"]);

    // The restart replays the batch at 4000 from the checkpoint at 3000.
    const again = await startJob(names, new ManualClock(4000), new FaultInjectingFileSystem());
    try {
      expect(again.ctx.recoveryReport).toMatchObject({
        checkpointTime: 3000,
        replayedBatches: [4000],
      });
      await again.ctx.scope.awaitProcessed(4000);
      expect(again.ctx.scope.firstError()).toBeUndefined();
      // The stop's checkpoint acknowledges r4, which commits R4 with its offset.
      await again.ctx.stop();
      await until(() => again.source.metrics.commits >= 1, 30_000, "the transaction of r4");
    } finally {
      await again.ctx.stop();
      await closeConnectorsOf(again.ctx);
    }
    expect((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("4");
    expect(await outputValues(names.output)).toEqual(["R2", "R4"]);
  }, 120_000);
});
