// A job run under master local[2] whose executors see its secrets, for the secret-leak test:
// they rebuild the graph with the job's args (a sink with a password and a careless connector
// that logs what it was given when it is created, which executors do too), and a map function
// running there fails quoting the URL and token of its args.
import { threadId } from "node:worker_threads";
import { defineJob, secret } from "sluice";
import { defineSink } from "sluice/connector";
import { z } from "zod";

const apiSink = defineSink({
  name: "api",
  version: "0.1.0",
  // `header` is not named like a credential: only its value (a reference) says it is secret.
  config: z.strictObject({ url: z.string(), header: z.string(), password: secret(z.string()) }),
  capabilities: { idempotent: true },
  create: (config, context) => {
    context.logger.info(
      { url: config.url, header: config.header, password: config.password },
      `api sink for ${config.url} sending ${config.header} (thread ${threadId})`,
    );
    return {
      connect: async () => undefined,
      writeBatch: async () => undefined,
      close: async () => undefined,
    };
  },
});

interface OnExecutorsArgs {
  readonly port: number;
  readonly api: { readonly url: string; readonly header: string; readonly password: string };
}

export default defineJob<OnExecutorsArgs>((ctx, args) => {
  const lines = ctx
    .source("socket", { host: "127.0.0.1", port: args.port, onServerClose: "end" })
    .repartition(2)
    .map((record) => {
      const line = new TextDecoder().decode(record.value);
      if (line === "leak") {
        throw new Error(
          `on thread ${threadId}: cannot call ${args.api.url} with ${args.api.header} and ${args.api.password}`,
        );
      }
      return line;
    });
  lines.sink(apiSink, args.api);
});
