// Records Kafka allows that kafkajs alone cannot carry, and records the sink cannot produce:
// headers without a value (written here by Kafka's own Java producer, as Java clients write
// them) reach a job as empty bytes and pass through a Kafka sink; records a sink is given with
// a value, key or header that is not bytes, or that are too large, are refused by index, so a
// job with dead letters sends them there and writes the rest of the batch.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Admin, Kafka } from "kafkajs";
import { type SinkRecord, StreamingContext } from "sluice";
import type { ConnectorRegistry } from "sluice/advanced";
import { ManualClock } from "sluice/testing";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kafkaSink } from "../../../connectors/kafka/src/index.js";
import { runFirstBatch } from "../../support/first-batch.js";
import {
  BROKER,
  BROKERS,
  connectAdmin,
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
  settleAll,
  text,
} from "./source-harness.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const JAVA = process.env.SLUICE_JAVA17 ?? "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
const KAFKA_JARS = join(ROOT, ".services/lib/kafka");
const encoder = new TextEncoder();
const bytes = (value: string) => encoder.encode(value);

let kafka: Kafka;
let admin: Admin;
let unlock: () => Promise<void>;
let registry: ConnectorRegistry;
let folder: string;
const topics: string[] = [];

beforeAll(async () => {
  unlock = await lockService("kafka");
  kafka = testKafka();
  admin = await connectAdmin(kafka);
  folder = await mkdtemp(join(tmpdir(), "sluice-kafka-malformed-"));
});

afterAll(async () => {
  if (topics.length > 0) await admin?.deleteTopics({ topics }).catch(() => undefined);
  await admin?.disconnect();
  if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  await unlock?.();
});

beforeEach(() => {
  registry = kafkaRegistry();
});

afterEach(async () => {
  await registry.dispose();
});

async function newTopic(): Promise<string> {
  const topic = uniqueName("malformed");
  topics.push(topic);
  await createTopic(admin, topic, 1);
  return topic;
}

/**
 * Produces `lines` with Kafka's console producer (the broker's own jars): each line is
 * `headers<TAB>key<TAB>value`, headers as `name:value,...`, and NULL for no value.
 */
async function produceWithJavaClient(topic: string, lines: readonly string[]): Promise<void> {
  if (!existsSync(JAVA) || !existsSync(KAFKA_JARS)) {
    throw new Error(
      `Kafka's Java client is missing (${JAVA}, ${KAFKA_JARS}): run scripts/services/install, or set SLUICE_JAVA17`,
    );
  }
  const child = execFile(
    JAVA,
    [
      "-Dlog4j.configuration=file:/dev/null",
      "-cp",
      `${KAFKA_JARS}/*`,
      "kafka.tools.ConsoleProducer",
      "--bootstrap-server",
      BROKER,
      "--topic",
      topic,
      "--property",
      "parse.headers=true",
      "--property",
      "parse.key=true",
      "--property",
      "null.marker=NULL",
    ],
    { timeout: 60_000 },
  );
  const exited = new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`the console producer ended with ${code}: ${stderr}`)),
    );
  });
  child.stdin?.end(`${lines.join("\n")}\n`);
  await exited;
}

async function deadLetters(directory: string): Promise<Record<string, unknown>[]> {
  const letters: Record<string, unknown>[] = [];
  for (const name of (await readdir(directory)).sort()) {
    if (name.startsWith(".")) continue;
    for (const line of (await readFile(join(directory, name), "utf8")).split("\n")) {
      if (line !== "") letters.push(JSON.parse(line) as Record<string, unknown>);
    }
  }
  return letters;
}

describe("records Kafka allows that kafkajs alone cannot carry", () => {
  it("hands headers without a value over as empty bytes, and a Kafka sink passes them on", async () => {
    const input = await newTopic();
    const output = await newTopic();
    await produceWithJavaClient(input, [
      "absent:NULL,trace:t-1\tk1\tv1",
      // A name given twice whose last value is absent, and a tombstone without a key.
      "absent:first,absent:NULL,trace:t-2\tNULL\tNULL",
    ]);
    const source = createKafkaSource(registry, {
      brokers: BROKERS,
      topics: [input],
      groupId: uniqueName("malformed-group"),
      startFrom: "earliest",
      pollTimeoutMs: 200,
    });
    await source.connect(AbortSignal.timeout(30_000));
    const { records, results } = await readAtLeast(source, 2);
    expect(
      records.map((record) => ({
        key: text(record.key),
        value: text(record.value),
        headers: Object.fromEntries(
          Object.entries(record.headers).map(([name, value]) => [name, text(value)]),
        ),
      })),
    ).toEqual([
      { key: "k1", value: "v1", headers: { absent: "", trace: "t-1" } },
      { key: undefined, value: "", headers: { absent: "", trace: "t-2" } },
    ]);
    const sink = createKafkaSink(registry, { brokers: BROKERS, topic: output });
    await sink.connect(AbortSignal.timeout(30_000));
    await sink.writeBatch(
      records.map((record) => ({
        value: record.value,
        headers: record.headers,
        ...(record.key === undefined ? {} : { key: record.key }),
      })),
      { batchTime: 1_000, partition: 0, idempotencyKey: "malformed/1/0/0" },
    );
    await settleAll(results);
    expect(
      (await readTopic(kafka, admin, output)).map(({ value, headers }) => ({ value, headers })),
    ).toEqual([
      { value: "v1", headers: { absent: "", trace: "t-1" } },
      { value: "", headers: { absent: "", trace: "t-2" } },
    ]);
  });
});

describe("records a Kafka sink cannot produce, in a job with dead letters", () => {
  it("go to the dead letters, each named with what is wrong, and the rest of the batch is written", async () => {
    const output = await newTopic();
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, appName: "bad-kafka-records" });
    ctx.use(kafkaSink);
    const dead = join(folder, "dead");
    ctx.deadLetters("file", { directory: dead, format: "jsonl" });
    // What a JavaScript function may hand the sink despite the types.
    const batch = [
      { value: bytes("ok-1") },
      { value: new Uint8Array(200) },
      { value: bytes("null-header"), headers: { trace: null } },
      { value: "text, not bytes" },
      { value: bytes("string-key"), key: "k" },
      { value: null, key: bytes("deleted") },
      { value: bytes("ok-2"), key: bytes("k") },
    ] as unknown as SinkRecord[];
    ctx
      .queueStream([batch], { oneAtATime: true })
      .sink("kafka", { brokers: BROKERS, topic: output, maxRecordBytes: 100 });
    await runFirstBatch(ctx, clock);
    expect((await readTopic(kafka, admin, output)).map(({ value }) => value)).toEqual([
      "ok-1",
      "ok-2",
    ]);
    expect((await deadLetters(dead)).map((letter) => letter.error)).toEqual([
      expect.stringMatching(/Record 1 .* takes 200 bytes .* more than maxRecordBytes \(100\)/),
      expect.stringContaining('has a header "trace" that is null, not bytes'),
      expect.stringContaining("has a value that is a string, not bytes"),
      expect.stringContaining("has a key that is a string, not bytes"),
      expect.stringContaining("has a null value: give a Uint8Array, or for a tombstone"),
    ]);
  }, 60_000);
});
