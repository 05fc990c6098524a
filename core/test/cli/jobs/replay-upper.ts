// A bounded job for the CLI tests: replays a folder of lines (ending at its marker file) and
// writes them upper-cased to another folder.
import { defineJob } from "sluice";

interface ReplayArgs {
  readonly input: string;
  readonly output: string;
}

export default defineJob<ReplayArgs>((ctx, args) => {
  const decoder = new TextDecoder();
  ctx
    .source("file", {
      directory: args.input,
      startAt: "earliest",
      endMarker: "_DONE",
      pollIntervalMs: 20,
    })
    .map((record) => decoder.decode(record.value).toUpperCase())
    .sink("file", { directory: args.output, prefix: "upper" });
});
