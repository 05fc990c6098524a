// A word count written against the installed `sluice` package only (plain JavaScript, no build):
// the lines of the files in `job.input` are split into words and counted with
// reduceByKey("sum"), which runs on the kernels. Each batch's counts are printed as
// `count <word> <n>`; the install test adds them up.
import { batchRecords, defineJob } from "sluice";

const decoder = new TextDecoder();

export default defineJob((ctx, args) => {
  ctx
    .source("file", {
      directory: args.input,
      startAt: "earliest",
      endMarker: "_DONE",
      pollIntervalMs: 50,
    })
    .flatMap((record) =>
      decoder
        .decode(record.value)
        .split(/\s+/)
        .filter((word) => word !== ""),
    )
    .map((word) => [word, 1])
    .reduceByKey("sum")
    .foreachBatch((batch) => {
      for (const [word, count] of batchRecords(batch)) console.log(`count ${word} ${count}`);
    });
});
