// The job the chaos tests kill and restart: a word count with running totals
// (updateStateByKey) and a sliding window (reduceByKeyAndWindow with an inverse), resumed with
// StreamingContext.getOrCreate. It runs as its own process (node --import tsx); the settings come
// as JSON in CHAOS_JOB, and it reports progress as lines on stdout.
import { type DStream, type SinkInput, StreamingContext } from "sluice";
import {
  type ChaosJobSettings,
  type OutputTarget,
  SLIDE_BATCHES,
  WINDOW_BATCHES,
} from "./word-count-settings.js";

const settings = JSON.parse(process.env.CHAOS_JOB ?? "{}") as ChaosJobSettings;
const decoder = new TextDecoder();

async function build(): Promise<StreamingContext> {
  const interval = settings.batchIntervalMs;
  const ctx = new StreamingContext({
    batchInterval: interval,
    appName: "chaos-word-count",
    defaultParallelism: 2,
  });
  for (const target of [settings.source, ...Object.values(settings.outputs)]) {
    if (target.kind === "plugin") await ctx.loadPlugins([target.module]);
  }
  const source = settings.source;
  const lines =
    source.kind === "file"
      ? ctx.source(
          "file",
          {
            directory: source.directory,
            startAt: "earliest",
            pollIntervalMs: 50,
            maxRecordsPerRead: 500,
          },
          { id: "words" },
        )
      : ctx.source(source.name, source.config, { id: "words" });
  const pairs = lines
    .flatMap((record) =>
      decoder
        .decode(record.value)
        .split(" ")
        .filter((word) => word !== ""),
    )
    .map((word): [string, number] => [word, 1]);
  write(
    pairs.reduceByKey((a, b) => a + b),
    "counts",
    settings.outputs.counts,
  );
  write(
    pairs
      .updateStateByKey((values: number[], total: number | undefined) =>
        values.reduce((a, b) => a + b, total ?? 0),
      )
      .setName("totals"),
    "totals",
    settings.outputs.totals,
  );
  write(
    pairs
      .reduceByKeyAndWindow((a, b) => a + b, {
        window: WINDOW_BATCHES * interval,
        slide: SLIDE_BATCHES * interval,
        inverse: (a, b) => a - b,
        filter: ([, count]) => count > 0,
      })
      .setName("recent"),
    "windows",
    settings.outputs.windows,
  );
  return ctx;
}

function write(stream: DStream<[string, number]>, name: string, target: OutputTarget): void {
  const rows: DStream<SinkInput> = stream.map((pair) => JSON.stringify(pair));
  if (target.kind === "file") {
    rows.sink("file", { directory: target.directory, prefix: name, format: "jsonl" });
  } else {
    rows.sink(target.name, target.config, { id: name });
  }
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
