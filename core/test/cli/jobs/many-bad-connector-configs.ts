// A job for `sluice check` with three connectors whose configs are invalid, and a step after
// them that fails the build on its own.
import { defineJob } from "sluice";

interface Args {
  readonly failAfter?: boolean;
}

export default defineJob<Args | undefined>((ctx, args) => {
  const lines = ctx.source("file", { directory: "", format: "xml" });
  const words = ctx.source("socket", { host: "localhost", port: 70_000 });
  lines.union(words).sink("file", { directory: "out", fsync: "yes" });
  if (args?.failAfter) throw new Error("the job's own check failed after the connectors");
});
