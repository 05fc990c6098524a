// The job the chaos tests kill and restart: a word count with per-batch counts, running totals
// (updateStateByKey) and a sliding window (reduceByKeyAndWindow with an inverse), resumed with
// StreamingContext.getOrCreate. It runs as its own process (node --import tsx); the settings come
// as JSON in CHAOS_JOB, and it reports progress as lines on stdout.
import {
  type ConnectorPlugin,
  type DStream,
  type SinkRecord,
  type SourceRecord,
  StreamingContext,
} from "sluice";
import { FaultInjectingFileSystem } from "sluice/testing";
import {
  type ChaosJobSettings,
  RECORD_ID_HEADERS,
  SLIDE_BATCHES,
  WINDOW_BATCHES,
} from "./word-count-settings.js";

const settings = JSON.parse(process.env.CHAOS_JOB ?? "{}") as ChaosJobSettings;
const decoder = new TextDecoder();
const CONNECTORS = new URL("../../../connectors/", import.meta.url);

async function build(): Promise<StreamingContext> {
  const interval = settings.batchIntervalMs;
  const ctx = new StreamingContext({
    batchInterval: interval,
    appName: "chaos-word-count",
    defaultParallelism: 2,
  });
  const pairs = (await lines(ctx))
    .flatMap((record) =>
      decoder
        .decode(record.value)
        .split(" ")
        .filter((word) => word !== ""),
    )
    .map((word): [string, number] => [word, 1]);
  await write(
    ctx,
    pairs.reduceByKey((a, b) => a + b),
    "counts",
  );
  await write(
    ctx,
    pairs
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.reduce((a, b) => a + b, total ?? 0),
      )
      .name("totals"),
    "totals",
  );
  await write(
    ctx,
    pairs
      .reduceByKeyAndWindow((a, b) => a + b, {
        window: WINDOW_BATCHES * interval,
        slide: SLIDE_BATCHES * interval,
        inverse: (a, b) => a - b,
        filter: ([, count]) => count > 0,
      })
      .name("recent"),
    "windows",
  );
  return ctx;
}

async function lines(ctx: StreamingContext): Promise<DStream<SourceRecord>> {
  const source = settings.source;
  switch (source.kind) {
    case "file":
      return ctx.source(
        "file",
        {
          directory: source.directory,
          startAt: "earliest",
          pollIntervalMs: 50,
          maxRecordsPerRead: 500,
        },
        { id: "words" },
      );
    case "kafka": {
      ctx.use(plugin(await connector("kafka"), "kafkaSource"));
      return ctx.source(
        "kafka",
        {
          brokers: source.brokers,
          topics: [source.topic],
          groupId: source.groupId,
          ...(source.transactionalId === undefined
            ? {}
            : { transactionalId: source.transactionalId }),
          startFrom: "earliest",
          pollTimeoutMs: 100,
          maxWaitTimeMs: 100,
          sessionTimeoutMs: 6_000,
          rebalanceTimeoutMs: 6_000,
          heartbeatIntervalMs: 500,
        },
        { id: "words" },
      );
    }
    case "rabbitmq": {
      ctx.use(plugin(await connector("rabbitmq"), "rabbitmqSource"));
      return ctx.source(
        "rabbitmq",
        { url: source.url, queue: { name: source.queue }, prefetch: 2_000 },
        { id: "words", recordId: header(RECORD_ID_HEADERS.rabbitmq) },
      );
    }
    case "mqtt": {
      ctx.use(plugin(await connector("mqtt"), "mqttSource"));
      return ctx.source(
        "mqtt",
        { url: source.url, clientId: source.clientId, topics: [source.topic], qos: 1 },
        { id: "words", recordId: header(RECORD_ID_HEADERS.mqtt) },
      );
    }
  }
}

function header(name: string): (record: SourceRecord) => string | undefined {
  return (record) => {
    const value = record.headers[name];
    return value === undefined ? undefined : decoder.decode(value);
  };
}

async function write(
  ctx: StreamingContext,
  stream: DStream<[string, number]>,
  name: "counts" | "totals" | "windows",
): Promise<void> {
  const rows = stream.map((pair) => JSON.stringify(pair));
  for (const [index, target] of settings.outputs[name].entries()) {
    const id = `${name}-${target.kind}-${index}`;
    if (target.kind === "file") {
      rows.sink("file", { directory: target.directory, prefix: name, format: "jsonl" }, { id });
      continue;
    }
    if (target.kind === "kafka") {
      ctx.use(plugin(await connector("kafka"), "kafkaSink"));
      rows.sink(
        "kafka",
        {
          brokers: target.brokers,
          topic: target.topic,
          ...(target.transactionalId === undefined
            ? {}
            : { transactionalId: target.transactionalId }),
        },
        { id },
      );
      continue;
    }
    ctx.use(plugin(await connector("cassandra"), "cassandraSink"));
    // Counts and windows are keyed by batch time and word (a replay overwrites its own rows);
    // totals by word (each batch upserts every word's running total).
    const byBatch = name !== "totals";
    const valueColumn = name === "totals" ? "total" : "count";
    rows.sink(
      "cassandra",
      {
        contactPoints: target.contactPoints,
        keyspace: target.keyspace,
        table: target.table,
        schema: {
          columns: byBatch
            ? { batch_time: "bigint", word: "text", [valueColumn]: "bigint" }
            : { word: "text", [valueColumn]: "bigint" },
          partitionKey: byBatch ? ["batch_time"] : ["word"],
          clusteringKey: byBatch ? ["word"] : [],
        },
        mapRecord: (record: SinkRecord, position: { batchTime: number }) => {
          const [word, value] = JSON.parse(decoder.decode(record.value)) as [string, number];
          return byBatch
            ? { batch_time: position.batchTime, word, [valueColumn]: value }
            : { word, [valueColumn]: value };
        },
      },
      { id },
    );
  }
}

/** The connector package's plugins, from its sources (`connectors/<name>/src`). */
async function connector(name: string): Promise<Record<string, ConnectorPlugin>> {
  return (await import(new URL(`${name}/src/index.ts`, CONNECTORS).href)) as Record<
    string,
    ConnectorPlugin
  >;
}

function plugin(module: Record<string, ConnectorPlugin>, name: string): ConnectorPlugin {
  const found = module[name];
  if (found === undefined) throw new Error(`the connector module has no export ${name}`);
  return found;
}

/**
 * The real file system, or one that kills this process right after the step `crash` names;
 * with `onceRecordsFlow`, `arm` starts the counting.
 */
function checkpointFileSystem(): { fileSystem?: FaultInjectingFileSystem; arm: () => void } {
  const crash = settings.crash;
  if (crash === undefined) return { arm: () => undefined };
  const fileSystem = new FaultInjectingFileSystem();
  let armed = false;
  const arm = () => {
    if (armed) return;
    armed = true;
    fileSystem.crashAfter(crash, () => {
      process.stdout.write(`crashing after ${crash.step} ${crash.path ?? ""}\n`);
      process.kill(process.pid, "SIGKILL");
    });
  };
  if (crash.onceRecordsFlow !== true) arm();
  return { fileSystem, arm };
}

const { arm, ...checkpointOptions } = checkpointFileSystem();
const ctx = await StreamingContext.getOrCreate(settings.checkpoint, build, checkpointOptions);
ctx.addListener({
  onBatchStarted: (info) => {
    if (info.numRecords > 0) arm();
  },
});
ctx.stopOnSignals({ timeout: "20s" });
ctx.addListener({
  onBatchCompleted: (info) => process.stdout.write(`batch ${info.batchTime} ${info.numRecords}\n`),
});
try {
  await ctx.start();
  process.stdout.write(`started ${JSON.stringify(ctx.recoveryReport ?? null)}\n`);
  await ctx.awaitTermination();
} catch (error) {
  process.stderr.write(
    `job failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
}
