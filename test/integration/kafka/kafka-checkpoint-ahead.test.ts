// A stateful Kafka-to-Kafka job paired by transactionalId, stopped between writing a checkpoint
// and committing the transaction its acknowledgements commit: the checkpoint is on disk, but the
// group's committed offsets and the output topic are still those of the batch before. The paired
// source resumes from the group's commit, so the restart must restore the checkpoint before
// (not the newest) and run the batch again; restoring the newest would count its record twice.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Kafka, Producer } from "kafkajs";
import { closeConnectorsOf, StreamingContext } from "sluice";
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

const decoder = new TextDecoder();
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let unlock: () => Promise<void>;
let directory: string;
const topics: string[] = [];

beforeAll(async () => {
  unlock = await lockServers(["kafka"]);
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  producer = await connectProducer(kafka);
  directory = await mkdtemp(join(tmpdir(), "sluice-kafka-checkpoint-ahead-"));
}, 320_000);

afterAll(async () => {
  await producer?.disconnect();
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  await unlock?.();
});

/** Fails the folder flush that follows the rename of the checkpoint at `time`, once. */
class CommitLostAfterCheckpoint extends FaultInjectingFileSystem {
  readonly #name: string;
  #renamed = false;
  /** True once the checkpoint was renamed into place and its flush failed. */
  failed = false;

  constructor(time: number) {
    super();
    this.#name = `checkpoint-${String(time).padStart(16, "0")}.ckpt`;
  }

  override async rename(from: string, to: string): Promise<void> {
    await super.rename(from, to);
    if (to.endsWith(this.#name)) this.#renamed = true;
  }

  override async syncDirectory(path: string): Promise<void> {
    if (this.#renamed && !this.failed) {
      this.failed = true;
      throw Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" });
    }
    return super.syncDirectory(path);
  }
}

interface Names {
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly transactionalId: string;
}

/** Running counts per word (updateStateByKey) into the paired sink, as `word=count`. */
async function startJob(
  names: Names,
  clock: ManualClock,
  fileSystem: FaultInjectingFileSystem,
): Promise<{ ctx: StreamingContext; source: KafkaSource }> {
  let input: unknown;
  const ctx = await StreamingContext.getOrCreate(
    join(directory, names.transactionalId),
    () => {
      const created = new StreamingContext({ batchInterval: 1000, clock, appName: "ahead" });
      created.use(kafkaSource, kafkaSink);
      const records = created.source("kafka", {
        brokers: BROKERS,
        topics: [names.input],
        groupId: names.groupId,
        transactionalId: names.transactionalId,
        startFrom: "earliest",
        pollTimeoutMs: 100,
      });
      records
        .map((record): [string, number] => [decoder.decode(record.value), 1])
        .updateStateByKey((values: number[], total: number | undefined) =>
          values.reduce((a, b) => a + b, total ?? 0),
        )
        .name("totals")
        .map(([word, total]) => `${word}=${total}`)
        .sink("kafka", {
          brokers: BROKERS,
          topic: names.output,
          transactionalId: names.transactionalId,
        });
      input = records;
      return created;
    },
    { fileSystem },
  );
  if (!(input instanceof SourceInputDStream)) throw new Error("expected a connector input");
  const source = input.connector.connector;
  if (!(source instanceof KafkaSource)) throw new Error("expected a KafkaSource");
  await ctx.start();
  return { ctx, source };
}

/** Produces `value` and runs the batch at `time` once the source has read it. */
async function batchOf(
  ctx: StreamingContext,
  source: KafkaSource,
  names: Names,
  clock: ManualClock,
  value: string,
  time: number,
): Promise<void> {
  const before = source.metrics.recordsIn;
  await producer.send({ topic: names.input, messages: [{ value }] });
  await until(() => source.metrics.recordsIn > before, 30_000, `${value} read`);
  clock.advance(time - clock.now());
  await ctx.scope.awaitProcessed(time);
}

async function outputValues(topic: string): Promise<string[]> {
  return (await readTopic(kafka, admin, topic)).map((message) => message.value);
}

describe("a paired stateful Kafka job stopped between a checkpoint and its commit", () => {
  it("restores the checkpoint the commit matches and counts the uncommitted batch once", async () => {
    const names: Names = {
      input: uniqueName("ahead-in"),
      output: uniqueName("ahead-out"),
      groupId: uniqueName("ahead-group"),
      transactionalId: uniqueName("ahead-tx"),
    };
    topics.push(names.input, names.output);
    await createTopic(admin, names.input, 1);
    await createTopic(admin, names.output, 1);

    const fs = new CommitLostAfterCheckpoint(2000);
    const clock = new ManualClock(0);
    const first = await startJob(names, clock, fs);
    try {
      await batchOf(first.ctx, first.source, names, clock, "a", 1000);
      await until(() => first.source.metrics.commits >= 1, 30_000, "the commit of 1000");
      await batchOf(first.ctx, first.source, names, clock, "a", 2000);
      expect(fs.failed).toBe(true);
    } finally {
      // The run dies: no checkpoint is written any more, nothing more is acknowledged, and the
      // transaction holding the batch at 2000's output never commits.
      fs.fillDisk({ only: (path) => path.includes("checkpoint-") });
      await first.ctx.stop();
      await closeConnectorsOf(first.ctx);
    }
    expect((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("1");
    expect(await outputValues(names.output)).toEqual(["a=1"]);

    const clock2 = new ManualClock(2000);
    const second = await startJob(names, clock2, new FaultInjectingFileSystem());
    try {
      expect.soft(second.ctx.recoveryReport).toMatchObject({
        checkpointTime: 1000,
        replayedBatches: [2000],
        skippedCheckpoints: [
          {
            name: expect.stringContaining("checkpoint-0000000000002000"),
            reason: expect.stringMatching(
              /ahead of what its sources committed.*records up to offset 2, group "[^"]+" committed up to 1/,
            ),
          },
        ],
      });
      await second.ctx.scope.awaitProcessed(2000);
      await batchOf(second.ctx, second.source, names, clock2, "b", 3000);
      expect(second.ctx.scope.firstError()).toBeUndefined();
      // The stop's checkpoint acknowledges the reads, which commits their outputs.
      await second.ctx.stop();
    } finally {
      await second.ctx.stop();
      await closeConnectorsOf(second.ctx);
    }
    expect((await committedOffsets(admin, names.groupId, names.input)).get(0)).toBe("3");
    // The batch at 2000 output again (its first output was never committed), then 3000's.
    expect((await outputValues(names.output)).sort()).toEqual(["a=1", "a=2", "a=2", "b=1"]);
  }, 120_000);
});
