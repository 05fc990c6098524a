// One process of the keyed cluster job (keyed-job.ts), as `sluice run --cluster` runs it: the
// job module built with createJobContext in cluster mode. Progress goes to stdout as lines:
// `partitions <list>` after every rebalance of the input, `batch <time> <records>` after every
// batch this process reads.
import { createJobContext } from "sluice";
import { KEYED_SETTINGS_VARIABLE, type KeyedJobSettings } from "./keyed-settings.js";

const settings = JSON.parse(process.env[KEYED_SETTINGS_VARIABLE] ?? "{}") as KeyedJobSettings;
const ctx = await createJobContext(
  { module: new URL("./keyed-job.ts", import.meta.url), args: settings },
  {
    batchInterval: settings.batchIntervalMs,
    appName: "keyed-word-count",
    defaultParallelism: 2,
    ...(settings.maxRatePerPartition === undefined
      ? {}
      : { backpressure: { enabled: false, maxRatePerPartition: settings.maxRatePerPartition } }),
    cluster: {
      kafka: { brokers: [...settings.brokers] },
      group: settings.group,
      keyedPartitions: settings.keyedPartitions,
    },
  },
);
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
  process.exitCode = 1;
}
