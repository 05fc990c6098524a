// Chaos on the quiet paths of the write-ahead log, with the sources that cannot replay (RabbitMQ,
// and MQTT at QoS 1 with a persistent session, the IoT path's source): a run idles until the
// checkpoints have emptied the log and is killed; the next run receives
// records, logs and acknowledges them, and dies inside a step of its first segment roll, of a
// log truncation, or of the batch record or checkpoint that would cover them. Every record the
// broker handed over must be counted exactly once in the end.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as amqpConnect } from "amqplib";
import { connectAsync as mqttConnect } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockServers, type ServerName } from "../support/service-lock.js";
import {
  consistencyProblems,
  countWords,
  readFileOutput,
  sorted,
  sumOverBatches,
} from "./ground-truth.js";
import { JobProcess, SeededRandom } from "./job-process.js";
import {
  type ChaosJobSettings,
  type CrashSettings,
  type OutputTarget,
  RECORD_ID_HEADERS,
  type SourceSettings,
} from "./jobs/word-count-settings.js";
import { prepareMqttSession } from "./mqtt-session.js";

const BATCH_MS = 200;
const RABBITMQ = "amqp://guest:guest@127.0.0.1:5672";
const MQTT = "mqtt://127.0.0.1:1883";
const WORDS = "alpha beta gamma delta epsilon zeta eta theta".split(" ");
/** Rounds of every crash point: CHAOS_WAL_ROUNDS=20 for the long local run. */
const ROUNDS = Number(process.env.CHAOS_WAL_ROUNDS ?? 1);

/** Where the second run of each pair dies, once the first has let the log go empty. */
const CRASH_POINTS: readonly { readonly name: string; readonly crash: CrashSettings }[] = [
  { name: "segment created, nothing in it", crash: { step: "open", path: "segment-" } },
  { name: "segment header written", crash: { step: "write", path: "segment-" } },
  { name: "log folder synced, no entry yet", crash: { step: "syncDirectory", path: "/wal/" } },
  {
    name: "first entry written, not flushed",
    crash: { step: "write", path: "segment-", occurrence: 2 },
  },
  { name: "first entry flushed, not acknowledged", crash: { step: "sync", path: "segment-" } },
  {
    name: "entries acknowledged, batch record being written",
    crash: { step: "open", path: "batch-", after: { step: "sync", path: "segment-" } },
  },
  {
    name: "entries acknowledged, checkpoint being renamed",
    crash: { step: "rename", path: "checkpoint-", after: { step: "sync", path: "segment-" } },
  },
  {
    name: "log truncation after the entries were checkpointed",
    crash: { step: "remove", path: "segment-" },
  },
];

/** A broker whose source cannot replay: the job's source, and how to deliver lines to it. */
interface BrokerUnderTest {
  readonly name: string;
  readonly server: ServerName;
  /** The job's source settings, once what the job reads from exists. */
  setUp(): Promise<SourceSettings>;
  /** Delivers the lines (each with its id), confirmed by the broker. */
  publish(lines: readonly { readonly id: string; readonly text: string }[]): Promise<void>;
  tearDown(): Promise<void>;
}

function rabbitmq(): BrokerUnderTest {
  const queue = `chaos-wal-${randomUUID()}`;
  let opened: Awaited<ReturnType<typeof openRabbitmq>> | undefined;
  return {
    name: "RabbitMQ",
    server: "rabbitmq",
    async setUp() {
      opened = await openRabbitmq();
      await opened.channel.assertQueue(queue, { durable: true });
      return { kind: "rabbitmq", url: RABBITMQ, queue };
    },
    async publish(lines) {
      const channel = opened?.channel;
      if (channel === undefined) throw new Error("RabbitMQ is not set up");
      for (const { id, text } of lines) {
        channel.sendToQueue(queue, Buffer.from(text), { persistent: true, messageId: id });
      }
      await channel.waitForConfirms();
    },
    async tearDown() {
      await opened?.channel.deleteQueue(queue).catch(() => undefined);
      await opened?.connection.close().catch(() => undefined);
    },
  };
}

async function openRabbitmq() {
  try {
    const connection = await amqpConnect(RABBITMQ);
    return { connection, channel: await connection.createConfirmChannel() };
  } catch (error) {
    throw new Error(
      `rabbitmq is not answering at ${RABBITMQ}: start it with scripts/services/start rabbitmq (${String(error)})`,
    );
  }
}

function mqtt(): BrokerUnderTest {
  const topic = `sluice/chaos/wal-${randomUUID()}`;
  const clientId = `sluice-chaos-wal-${randomUUID().slice(0, 8)}`;
  let publisher: Awaited<ReturnType<typeof mqttConnect>> | undefined;
  return {
    name: "MQTT",
    server: "mosquitto",
    async setUp() {
      try {
        await prepareMqttSession(MQTT, clientId, topic);
        publisher = await mqttConnect(MQTT, { protocolVersion: 5 });
      } catch (error) {
        throw new Error(
          `mosquitto is not answering at ${MQTT}: start it with scripts/services/start mosquitto (${String(error)})`,
        );
      }
      return { kind: "mqtt", url: MQTT, clientId, topic };
    },
    async publish(lines) {
      const client = publisher;
      if (client === undefined) throw new Error("MQTT is not set up");
      await Promise.all(
        lines.map(({ id, text }) =>
          client.publishAsync(topic, text, {
            qos: 1,
            properties: { userProperties: { [RECORD_ID_HEADERS.mqtt]: id } },
          }),
        ),
      );
    },
    async tearDown() {
      await publisher?.endAsync().catch(() => undefined);
    },
  };
}

let root: string;
const jobs: JobProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-wal-"));
});

afterAll(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  // CHAOS_KEEP=1 keeps the checkpoints and outputs for inspection.
  if (root !== undefined && process.env.CHAOS_KEEP !== "1") {
    await rm(root, { recursive: true, force: true });
  }
});

async function walChaos(broker: BrokerUnderTest): Promise<void> {
  const release = await lockServers([broker.server]);
  try {
    await crashPointsOf(broker, await broker.setUp());
  } finally {
    await broker.tearDown();
    await release();
  }
}

async function crashPointsOf(broker: BrokerUnderTest, source: SourceSettings): Promise<void> {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
  const random = new SeededRandom(seed);
  const folder = join(root, `${broker.server}-${randomUUID()}`);
  const outputs = (name: "counts" | "totals" | "windows"): OutputTarget[] => [
    { kind: "file", directory: join(folder, "out", name) },
  ];
  const base: ChaosJobSettings = {
    checkpoint: join(folder, "checkpoint"),
    batchIntervalMs: BATCH_MS,
    source,
    outputs: {
      counts: outputs("counts"),
      totals: outputs("totals"),
      windows: outputs("windows"),
    },
  };
  const expected = new Map<string, number>();
  let lineIds = 0;
  const publish = async (): Promise<void> => {
    const lines = Array.from({ length: random.int(5, 40) }, () =>
      Array.from({ length: random.int(1, 5) }, () => random.pick(WORDS)).join(" "),
    );
    countWords(lines, expected);
    await broker.publish(lines.map((text) => ({ id: `line-${lineIds++}`, text })));
  };
  const total = (counts: ReadonlyMap<string, number>) =>
    [...counts.values()].reduce((a, b) => a + b, 0);
  const counted = async () =>
    total(sumOverBatches(await readFileOutput(join(folder, "out", "counts"))));
  const logSegments = async () =>
    (await readdir(join(folder, "checkpoint", "wal", "words")).catch(() => [] as string[])).filter(
      (name) => name.endsWith(".wal"),
    );
  const start = (crash?: CrashSettings): JobProcess => {
    const job = new JobProcess(crash === undefined ? base : { ...base, crash });
    jobs.push(job);
    return job;
  };
  /** Polls `condition` (what the job wrote) until it holds, failing with `job`'s output. */
  const until = async (condition: () => Promise<boolean>, what: string, job: JobProcess) => {
    const deadline = Date.now() + 120_000;
    while (!(await condition())) {
      if (job.hasExited || Date.now() > deadline) {
        throw new Error(
          `no ${what} (seed ${seed}): ${await counted()} of ${total(expected)} words counted, log ${JSON.stringify(await logSegments())}\n${job.describe()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  let crashes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const point of CRASH_POINTS) {
      const where = `round ${round}, ${point.name} (seed ${seed})`;
      // Records arrive, are counted, and the job idles until checkpoints emptied its log.
      const quiet = start();
      await quiet.waitFor((out) => out.startsWith("started"), `${where}: start`, 120_000);
      await publish();
      await until(async () => (await counted()) === total(expected), `${where}: count`, quiet);
      await until(async () => (await logSegments()).length === 0, `${where}: empty log`, quiet);
      quiet.signal("SIGKILL");
      expect((await quiet.exited).signal, where).toBe("SIGKILL");

      // The next run receives records and dies inside the step under test.
      const dying = start(point.crash);
      await dying.waitFor((out) => out.startsWith("started"), `${where}: start`, 120_000);
      await publish();
      const exit = await dying.exited;
      expect(exit.signal, `${where}: the job killed itself there\n${dying.describe()}`).toBe(
        "SIGKILL",
      );
      crashes++;
    }
  }

  const last = start();
  await last.waitFor((out) => out.startsWith("started"), "the last start", 120_000);
  await until(async () => (await counted()) >= total(expected), "final count", last);
  last.signal("SIGTERM");
  expect((await last.exited).code, last.describe()).toBe(0);

  const counts = await readFileOutput(join(folder, "out", "counts"));
  const totals = await readFileOutput(join(folder, "out", "totals"));
  const windows = await readFileOutput(join(folder, "out", "windows"));
  expect(sorted(sumOverBatches(counts)), `counts (seed ${seed})`).toEqual(sorted(expected));
  expect(consistencyProblems(counts, totals, windows, BATCH_MS), `seed ${seed}`).toEqual([]);
  expect(crashes).toBe(CRASH_POINTS.length * ROUNDS);
  console.info(
    `chaos (write-ahead log, ${broker.name}): seed ${seed}, ${crashes} crashes at ${CRASH_POINTS.length} points, ${lineIds} lines, ${total(expected)} words`,
  );
}

describe("chaos: the write-ahead log around quiet periods and inside its multi-step writes", () => {
  for (const broker of [rabbitmq, mqtt]) {
    const name = broker().name;
    it(`${name}: nothing lost, nothing counted twice (${CRASH_POINTS.length} crash points × ${ROUNDS} round(s))`, async () => {
      await walChaos(broker());
    }, 1_800_000);
  }
});
