// One member of a broker group: the job several processes run at once, sharing the messages of an
// MQTT shared subscription or of a RabbitMQ queue through the broker. It checkpoints to its own
// folder (resumed with getOrCreate after a kill), drops redelivered copies the write-ahead log
// already holds by the message id, and writes one JSON line per message to the file sink in its
// own folder: { id, redelivered }. It runs as its own process (node --import tsx); the settings
// come as JSON in BROKER_MEMBER, and it reports progress as lines on stdout.
import { mqttSource } from "@sluice/mqtt";
import { rabbitmqSource } from "@sluice/rabbitmq";
import { type DStream, type SourceRecord, StreamingContext } from "sluice";
import {
  type BrokerMemberSettings,
  EVENT_ID_PROPERTY,
  OUTPUT_PREFIX,
} from "./broker-member-settings.js";

const settings = JSON.parse(process.env.BROKER_MEMBER ?? "{}") as BrokerMemberSettings;
// Read when the context creates its logger: warnings (lost connections, redeliveries) end up in
// a failed test's message.
process.env.SLUICE_LOG_LEVEL = settings.logLevel ?? "warn";
const decoder = new TextDecoder();

function build(): StreamingContext {
  const ctx = new StreamingContext({
    batchInterval: settings.batchIntervalMs,
    appName: `broker-member-${settings.member}`,
    // A cap on the intake, so that a member is certain to be mid-run when the test kills it.
    backpressure: { maxRate: settings.maxRate },
  });
  events(ctx)
    .map((record) =>
      JSON.stringify({
        id: header(record, settings.source.kind === "mqtt" ? EVENT_ID_PROPERTY : "amqp-message-id"),
        redelivered:
          header(record, settings.source.kind === "mqtt" ? "mqtt-dup" : "amqp-redelivered") ===
          "true",
      }),
    )
    .sink(
      "file",
      { directory: settings.output, prefix: OUTPUT_PREFIX, format: "jsonl" },
      { id: "events-out" },
    );
  return ctx;
}

function events(ctx: StreamingContext): DStream<SourceRecord> {
  const source = settings.source;
  if (source.kind === "mqtt") {
    ctx.use(mqttSource);
    return ctx.source(
      "mqtt",
      {
        url: source.url,
        clientId: source.clientId,
        topics: [source.filter],
        qos: 1,
        sessionExpirySeconds: 600,
      },
      { id: "events", recordId: (record) => header(record, EVENT_ID_PROPERTY) },
    );
  }
  ctx.use(rabbitmqSource);
  return ctx.source(
    "rabbitmq",
    { url: source.url, queue: { name: source.queue }, prefetch: source.prefetch },
    { id: "events", recordId: (record) => header(record, "amqp-message-id") },
  );
}

function header(record: SourceRecord, name: string): string | undefined {
  const value = record.headers[name];
  return value === undefined ? undefined : decoder.decode(value);
}

const ctx = await StreamingContext.getOrCreate(settings.checkpoint, build);
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
