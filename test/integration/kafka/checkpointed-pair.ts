// What the tests of a Kafka source and sink paired by transactionalId under
// ctx.checkpoint(dir, { interval }) share: the suite's broker clients and checkpoint folder, the
// job (values upper-cased, then a window, into the paired sink, through getOrCreate), and a file
// system that holds one checkpoint's final rename until the test lets it go.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Admin, Producer } from "kafkajs";
import { type DStream, type SourceRecord, StreamingContext } from "sluice";
import { FaultInjectingFileSystem, type ManualClock } from "sluice/testing";
import { afterAll, beforeAll } from "vitest";
import { KafkaSource, kafkaSink, kafkaSource } from "../../../connectors/kafka/src/index.js";
import { SourceInputDStream } from "../../../core/src/plugins/source-input-dstream.js";
import { BROKERS, readTopic, uniqueName } from "./kafka-helpers.js";
import { kafkaSuite } from "./kafka-suite.js";

/** The topics, group and transactional id of one test's pair. */
export interface PairNames {
  readonly input: string;
  readonly output: string;
  readonly groupId: string;
  readonly transactionalId: string;
}

/** How the job windows its values (ms), and how often it checkpoints. */
export interface PairedJobShape {
  readonly appName: string;
  readonly windowMs: number;
  readonly slideMs: number;
  /** Default: every batch. */
  readonly checkpointIntervalMs?: number;
  /** How long a read waits for records before returning none (default 100 ms). */
  readonly pollTimeoutMs?: number;
  /** What the job writes to the paired sink (default: the values upper-cased, windowed). */
  readonly pipeline?: (records: DStream<SourceRecord>) => DStream<string>;
}

/** A running job of the pair. */
export interface PairedJob {
  readonly ctx: StreamingContext;
  readonly records: SourceInputDStream;
  readonly source: KafkaSource;
  /** Reads the source has answered so far (records or none). */
  readonly reads: () => number;
}

/** The suite's clients and the helpers built on them (valid inside its tests). */
export interface CheckpointedPairSuite {
  readonly admin: Admin;
  readonly producer: Producer;
  /** Unique names for one test, its two topics created (one partition each). */
  names(prefix: string): Promise<PairNames>;
  /** Starts (or, after a crash, restores) the job through getOrCreate. */
  startJob(
    names: PairNames,
    shape: PairedJobShape,
    clock: ManualClock,
    fileSystem: FaultInjectingFileSystem,
  ): Promise<PairedJob>;
  /** The values of every committed record of `topic`, in order. */
  outputValues(topic: string): Promise<string[]>;
}

/**
 * Registers the suite's hooks: Kafka locked for the suite, an admin and a producer connected, a
 * checkpoint folder made; all undone after it, the topics made by `names` deleted.
 *
 * @example
 * const suite = checkpointedPairSuite("ckpt-ack");
 */
export function checkpointedPairSuite(prefix: string): CheckpointedPairSuite {
  const clients = kafkaSuite();
  let directory = "";
  const decoder = new TextDecoder();

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), `sluice-${prefix}-`));
  });

  afterAll(async () => {
    if (directory !== "") await rm(directory, { recursive: true, force: true });
  });

  return {
    get admin() {
      return clients.admin;
    },
    get producer() {
      return clients.producer;
    },
    async names(test: string): Promise<PairNames> {
      return {
        input: await clients.newTopic(`${test}-in`),
        output: await clients.newTopic(`${test}-out`),
        groupId: uniqueName(`${test}-group`),
        transactionalId: uniqueName(`${test}-tx`),
      };
    },
    async startJob(names, shape, clock, fileSystem): Promise<PairedJob> {
      let records: unknown;
      const ctx = await StreamingContext.getOrCreate(
        join(directory, names.transactionalId),
        () => {
          const created = new StreamingContext({
            batchInterval: 1000,
            clock,
            appName: shape.appName,
          });
          created.use(kafkaSource, kafkaSink);
          const input = created.source("kafka", {
            brokers: BROKERS,
            topics: [names.input],
            groupId: names.groupId,
            transactionalId: names.transactionalId,
            startFrom: "earliest",
            pollTimeoutMs: shape.pollTimeoutMs ?? 100,
          });
          const pipeline =
            shape.pipeline ??
            ((records: DStream<SourceRecord>) =>
              records
                .map((record) => decoder.decode(record.value).toUpperCase())
                .window(shape.windowMs, shape.slideMs));
          pipeline(input).sink("kafka", {
            brokers: BROKERS,
            topic: names.output,
            transactionalId: names.transactionalId,
          });
          records = input;
          return created;
        },
        {
          ...(shape.checkpointIntervalMs === undefined
            ? {}
            : { interval: shape.checkpointIntervalMs }),
          fileSystem,
        },
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
    },
    async outputValues(topic: string): Promise<string[]> {
      return (await readTopic(clients.kafka, clients.admin, topic)).map((message) => message.value);
    },
  };
}

/**
 * The file system under test, except that the rename completing the checkpoint at `time` waits
 * until `release()`.
 *
 * @example
 * const fs = new CheckpointHeldAt(3000);
 */
export class CheckpointHeldAt extends FaultInjectingFileSystem {
  readonly #name: string;
  readonly #released: Promise<void>;
  #release: () => void = () => undefined;
  /** True once the held rename began. */
  held = false;
  /** True once the held checkpoint is written. */
  written = false;

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
    if (!to.endsWith(this.#name)) return super.rename(from, to);
    this.held = true;
    await this.#released;
    await super.rename(from, to);
    this.written = true;
  }
}
