// One process of the cluster word count: words of the Kafka topic `input`, counted per batch
// (reduceByKey) and written to `output` as JSON [word, count, pid, output number] in Kafka transactions that also commit the consumed
// offsets (source and sink paired by transactionalId). Every process runs this module with the
// same group; the group shares the input's partitions. Progress goes to stdout as lines:
// `partitions <list>` after every rebalance, `batch <time> <records>` after every batch.
import { createHash } from "node:crypto";
import { type ConnectorPlugin, StreamingContext } from "sluice";
import { type ClusterJobSettings, SETTINGS_VARIABLE } from "./settings.js";

const settings = JSON.parse(process.env[SETTINGS_VARIABLE] ?? "{}") as ClusterJobSettings;
const decoder = new TextDecoder();
const kafka = (await import(
  new URL("../../../connectors/kafka/src/index.ts", import.meta.url).href
)) as {
  plugins: ConnectorPlugin[];
};

const ctx = new StreamingContext({
  batchInterval: settings.batchIntervalMs,
  appName: "cluster-word-count",
  defaultParallelism: 2,
  ...(settings.maxRatePerPartition === undefined
    ? {}
    : { backpressure: { enabled: false, maxRatePerPartition: settings.maxRatePerPartition } }),
  cluster: { kafka: { brokers: settings.brokers }, group: settings.group },
});
ctx.use(...kafka.plugins);
const spin = settings.spinPerWord ?? 0;
let outputs = 0;
ctx
  .source("kafka", {
    brokers: settings.brokers,
    topics: [settings.input],
    groupId: settings.group,
    transactionalId: "word-count",
    startFrom: "earliest",
    pollTimeoutMs: 100,
    maxWaitTimeMs: 100,
    sessionTimeoutMs: settings.sessionTimeoutMs ?? 6_000,
    rebalanceTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
  })
  .flatMap((record) => {
    const line = decoder.decode(record.value);
    if (line === "stall") return stallOnce();
    return line.split(" ").filter((word) => word !== "");
  })
  .map((word): [string, number] => [spin > 0 ? spun(word) : word, 1])
  .reduceByKey((a, b) => a + b)
  // The process and a number of its own tell, in a failure report, a repeated write from a
  // recount.
  .map(([word, count]) => JSON.stringify([word, count, process.pid, ++outputs]))
  .sink("kafka", {
    brokers: settings.brokers,
    topic: settings.output,
    transactionalId: "word-count",
    transactionTimeoutMs: settings.transactionTimeoutMs ?? 10_000,
  });

let stalled = false;

/** Blocks the event loop once for `stallMs` (a long batch); the line counts no word. */
function stallOnce(): string[] {
  if (!stalled && settings.stallMs !== undefined) {
    stalled = true;
    process.stdout.write("stalling\n");
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, settings.stallMs);
  }
  return [];
}

/** Hashes the word `spin` times and keeps the word (CPU work whose result is checked). */
function spun(word: string): string {
  let digest = word;
  for (let round = 0; round < spin; round++) {
    digest = createHash("sha256").update(digest).digest("hex");
  }
  return digest.length > 0 ? word : digest;
}

ctx.cluster?.onPartitions((partitions) =>
  process.stdout.write(`partitions ${partitions.join(",")}\n`),
);
ctx.addListener({
  onBatchCompleted: (info) => process.stdout.write(`batch ${info.batchTime} ${info.numRecords}\n`),
});
ctx.stopOnSignals({ timeout: "20s" });
try {
  await ctx.start();
  process.stdout.write("started\n");
  await ctx.awaitTermination();
} catch (error) {
  process.stderr.write(
    `job failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
