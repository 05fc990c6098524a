// Kafka to Kafka exactly once under ctx.checkpoint(dir, { interval }), through reads that brought
// no records. A window keeps outputting a record in the batches after the one that read it; those
// outputs wait in the paired sink's open transaction. A read that brings nothing must not commit
// that transaction before a checkpoint covers the batches whose outputs it holds: a crash would
// then replay those batches from the previous checkpoint and output them a second time.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka, Producer } from "kafkajs";
import { closeConnectorsOf, StreamingContext } from "sluice";
import { FaultInjectingFileSystem, ManualClock } from "sluice/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KafkaSource, kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import { linkedSource } from "../../../connectors/kafka/src/transaction-link.js";
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
  directory = await mkdtemp(join(tmpdir(), "sluice-kafka-idle-acks-"));
  // The lock may be held by another suite for a while (lockServers waits up to 300 s).
}, 320_000);

afterAll(async () => {
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  if (directory) await rm(directory, { recursive: true, force: true });
  await unlock?.();
});

interface Job {
  readonly ctx: StreamingContext;
  readonly records: SourceInputDStream;
  readonly source: KafkaSource;
  /** Reads the source has answered so far (records or none). */
  readonly reads: () => number;
}

/**
 * The job, through getOrCreate: every value upper-cased, in a window of 5 s sliding by 1 s (a
 * record read at 1000 is output at 1000 to 5000), to a Kafka sink paired with the source;
 * checkpoints every 3 s.
 */
async function startJob(
  names: { input: string; output: string; groupId: string; transactionalId: string },
  clock: ManualClock,
  fileSystem: FaultInjectingFileSystem,
): Promise<Job> {
  let records: unknown;
  const ctx = await StreamingContext.getOrCreate(
    join(directory, names.transactionalId),
    () => {
      const created = new StreamingContext({ batchInterval: 1000, clock, appName: "idle-acks" });
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
        .window(5000, 1000)
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
  let reads = 0;
  const read = source.read.bind(source);
  source.read = async (...args) => {
    const result = await read(...args);
    reads++;
    return result;
  };
  await ctx.start();
  return { ctx, records, source, reads: () => reads };
}

/**
 * Resolves once the source answered two more reads, so at least one read that began after this
 * call was handed to the input (and, were it acknowledged at once, its commit began), then once
 * the commit those acknowledgements began, if any, is done.
 */
async function afterIdleReads(job: Job, transactionalId: string): Promise<void> {
  const from = job.reads();
  await until(() => job.reads() >= from + 2, 30_000, "two more reads");
  await linkedSource(transactionalId)?.pendingCommit?.catch(() => undefined);
}

/** The file system under test, except that the rename completing the checkpoint at `time` waits. */
class CheckpointHeldAt extends FaultInjectingFileSystem {
  readonly #name: string;
  readonly #released: Promise<void>;
  #release: () => void = () => undefined;
  held = false;

  constructor(time: number) {
    super();
    this.#name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
    this.#released = new Promise<void>((resolve) => {
      this.#release = resolve;
    });
  }

  release(): void {
    this.#release();
  }

  override async rename(from: string, to: string): Promise<void> {
    if (to.endsWith(this.#name)) {
      this.held = true;
      await this.#released;
    }
    return super.rename(from, to);
  }
}

async function outputValues(topic: string): Promise<string[]> {
  return (await readTopic(kafka, admin, topic)).map((message) => message.value);
}

describe("kafka exactly once with checkpoints, through reads that brought no records", () => {
  it("a window's outputs of batches without input commit only with the checkpoint covering them: after a crash nothing is output twice", async () => {
    const names = {
      input: uniqueName("idle-acks-in"),
      output: uniqueName("idle-acks-out"),
      groupId: uniqueName("idle-acks-group"),
      transactionalId: uniqueName("idle-acks-tx"),
    };
    topics.push(names.input, names.output);
    await createTopic(admin, names.input, 1);
    await createTopic(admin, names.output, 1);
    const fs = new FaultInjectingFileSystem();
    const clock = new ManualClock(0);
    const job = await startJob(names, clock, fs);
    const { ctx, records, source } = job;
    try {
      await producer.send({ topic: names.input, messages: [{ value: "r1" }] });
      await until(
        () => source.metrics.recordsIn === 1 && records.hasPendingData(),
        30_000,
        "r1 read",
      );
      for (const time of [1000, 2000, 3000]) {
        clock.advance(1000);
        await ctx.scope.awaitProcessed(time);
      }
      // The checkpoint at 3000 acknowledged r1: R1 of 1000, 2000 and 3000 committed with it.
      await afterIdleReads(job, names.transactionalId);
      clock.advance(1000);
      await ctx.scope.awaitProcessed(4000);
      // R1 of 4000 waits in the open transaction; the next checkpoint is due at 6000. Reads
      // that bring nothing go on meanwhile.
      await afterIdleReads(job, names.transactionalId);
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      // The process dies: no checkpoint can be written any more (so nothing more is
      // acknowledged), and what the sink's transaction holds is never committed.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // What a restart starts from: the checkpoint at 3000, with the outputs it covers.
    expect.soft((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("1");
    expect.soft(await outputValues(names.output)).toEqual(["R1", "R1", "R1"]);

    // The restart replays the batch at 4000 from the checkpoint at 3000, then runs 5000.
    const clockAgain = new ManualClock(4000);
    const again = await startJob(names, clockAgain, new FaultInjectingFileSystem());
    try {
      expect(again.ctx.recoveryReport).toMatchObject({
        checkpointTime: 3000,
        replayedBatches: [4000],
      });
      await again.ctx.scope.awaitProcessed(4000);
      clockAgain.advance(1000);
      await again.ctx.scope.awaitProcessed(5000);
      await afterIdleReads(again, names.transactionalId);
      expect(again.ctx.scope.firstError()).toBeUndefined();
      // The stop's checkpoint covers 4000 and 5000; its acknowledgements commit their outputs.
      await again.ctx.stop();
      await linkedSource(names.transactionalId)?.pendingCommit;
      expect(again.ctx.scope.firstError()).toBeUndefined();
    } finally {
      await again.ctx.stop();
      await closeConnectorsOf(again.ctx);
    }
    expect((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("1");
    // R1 once for each window holding r1: 1000 to 5000.
    expect(await outputValues(names.output)).toEqual(["R1", "R1", "R1", "R1", "R1"]);
  }, 120_000);

  it("a checkpoint after batches without input commits their outputs though records read after its batch wait: a crash loses none of them", async () => {
    const names = {
      input: uniqueName("idle-gap-in"),
      output: uniqueName("idle-gap-out"),
      groupId: uniqueName("idle-gap-group"),
      transactionalId: uniqueName("idle-gap-tx"),
    };
    topics.push(names.input, names.output);
    await createTopic(admin, names.input, 1);
    await createTopic(admin, names.output, 1);
    const fs = new CheckpointHeldAt(6000);
    const clock = new ManualClock(0);
    const job = await startJob(names, clock, fs);
    const { ctx, records, source } = job;
    try {
      await producer.send({ topic: names.input, messages: [{ value: "r1" }] });
      await until(
        () => source.metrics.recordsIn === 1 && records.hasPendingData(),
        30_000,
        "r1 read",
      );
      for (const time of [1000, 2000, 3000, 4000, 5000]) {
        clock.advance(1000);
        await ctx.scope.awaitProcessed(time);
        await afterIdleReads(job, names.transactionalId);
      }
      // R1 of 4000 and 5000 wait in the open transaction for the checkpoint at 6000, which
      // covers them. Records read after the batch at 6000 was cut wait for the next batch.
      clock.advance(1000);
      await until(() => fs.held, 30_000, "the checkpoint at 6000 being written");
      await producer.send({ topic: names.input, messages: [{ value: "r2" }] });
      await until(
        () => source.metrics.recordsIn === 2 && records.hasPendingData(),
        30_000,
        "r2 read",
      );
      fs.release();
      await ctx.scope.awaitProcessed(6000);
      await afterIdleReads(job, names.transactionalId);
      expect(ctx.scope.firstError()).toBeUndefined();
    } finally {
      fs.release();
      // The process dies before the next checkpoint.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await ctx.stop();
      await closeConnectorsOf(ctx);
    }
    // The checkpoint at 6000 is where a restart resumes: every output up to it is committed.
    expect((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("1");
    expect(await outputValues(names.output)).toEqual(["R1", "R1", "R1", "R1", "R1"]);
    const again = await startJob(names, new ManualClock(6000), new FaultInjectingFileSystem());
    try {
      expect(again.ctx.recoveryReport).toMatchObject({ checkpointTime: 6000, replayedBatches: [] });
    } finally {
      await again.ctx.stop();
      await closeConnectorsOf(again.ctx);
    }
  }, 120_000);
});
