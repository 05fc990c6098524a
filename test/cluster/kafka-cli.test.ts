// `sluice run --cluster`: two CLI processes of one group share the input's partitions, each
// prints the partitions it owns, and together they count every word exactly once.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Kafka, logLevel } from "kafkajs";
import { afterEach, expect, it } from "vitest";
import { SluiceProcess } from "../samples/sluice-process.js";
import { lockServers } from "../support/service-lock.js";
import { CommittedCounts } from "./kafka/committed-counts.js";

const BROKERS = ["127.0.0.1:9092"];
const PARTITIONS = 4;
const JOB = fileURLToPath(new URL("./kafka/cli-job.ts", import.meta.url));

let cleanup: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

/**
 * Resolves once `condition()` holds, looking again every 50 ms; rejects after 60 s or when a
 * process exits first, with what the processes printed.
 */
async function until(
  condition: () => boolean,
  what: string,
  processes: readonly SluiceProcess[],
): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited = false;
  for (const process of processes) void process.exited.then(() => (exited = true));
  while (!condition()) {
    if (exited || Date.now() > deadline) {
      throw new Error(
        `no ${what}${exited ? " (a process exited)" : ""}\n${processes.map((p) => p.describe()).join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The partitions of the last `cluster ...: partitions` line a process printed. */
function shownPartitions(stderr: string): string[] {
  const lines = [...stderr.matchAll(/^cluster [^,]+, process [^:]+: partitions (.*)$/gm)];
  const last = lines[lines.length - 1]?.[1];
  return last === undefined || last === "(none)" ? [] : last.split(", ");
}

it("runs one job as two `sluice run --cluster` processes that show and share the partitions", async () => {
  const release = await lockServers(["kafka"]);
  cleanup.push(release);
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  cleanup.push(() => admin.disconnect());
  const id = randomUUID().slice(0, 8);
  const input = `cli-cluster-in-${id}`;
  const output = `cli-cluster-out-${id}`;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: input, numPartitions: PARTITIONS },
      { topic: output, numPartitions: 1 },
    ],
  });
  const reader = new CommittedCounts(BROKERS, output);
  await reader.start();
  cleanup.push(() => reader.stop());
  const args = [
    "run",
    JOB,
    "--cluster",
    `cli-cluster-${id}@${BROKERS.join(",")}`,
    "--batch",
    "250ms",
    "--set",
    `job.brokers=${BROKERS.join(",")}`,
    "--set",
    `job.input=${input}`,
    "--set",
    `job.output=${output}`,
  ];
  const processes = [new SluiceProcess(args), new SluiceProcess(args)];
  for (const process of processes) cleanup.push(async () => void (await process.stop()));
  await until(
    () =>
      processes.every((each) => shownPartitions(each.stderr).length > 0) &&
      processes.flatMap((each) => shownPartitions(each.stderr)).length === PARTITIONS,
    "the partitions shared and shown",
    processes,
  );
  const owned = processes.flatMap((process) => shownPartitions(process.stderr)).sort();
  expect(owned).toEqual(Array.from({ length: PARTITIONS }, (_, n) => `${input}-${n}`).sort());

  const producer = kafka.producer();
  await producer.connect();
  cleanup.push(() => producer.disconnect());
  const lines = Array.from({ length: 200 }, (_, n) => `w${n % 7} w${n % 3}`);
  await producer.send({
    topic: input,
    messages: lines.map((value, n) => ({ key: String(n), value })),
  });
  const expected = new Map<string, number>();
  for (const word of lines.flatMap((line) => line.split(" "))) {
    expected.set(word, (expected.get(word) ?? 0) + 1);
  }
  await until(() => reader.words >= 400, "every word counted", processes);
  const exits = await Promise.all(processes.map((process) => process.stop()));
  expect(exits.map((exit) => exit.code)).toEqual([0, 0]);
  expect([...reader.totals].sort()).toEqual([...expected].sort());
}, 120_000);
