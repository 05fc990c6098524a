// A job for the CLI's signal tests: its output hangs on the first batch with records, as a sink
// whose server never answers does (an open handle keeps the process alive meanwhile). It says so
// on stdout.
import { batchRecords, defineJob } from "sluice";

interface HungOutputArgs {
  readonly input: string;
}

export default defineJob<HungOutputArgs>((ctx, args) => {
  ctx
    .source("file", { directory: args.input, startAt: "earliest", pollIntervalMs: 20 })
    .foreachBatch(async (batch) => {
      if (batchRecords(batch).length === 0) return;
      process.stdout.write("output hung\n");
      await new Promise<never>(() => {
        setInterval(() => {}, 1_000);
      });
    });
});
