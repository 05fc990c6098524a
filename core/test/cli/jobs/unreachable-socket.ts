// A job reading lines from a TCP port nothing listens on, for the CLI's connect timeout.
import { defineJob } from "sluice";

export default defineJob<{ readonly port: number }>((ctx, args) => {
  ctx.source("socket", { host: "127.0.0.1", port: args.port }).print();
});
