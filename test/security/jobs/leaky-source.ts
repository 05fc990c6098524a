// A job whose source is as careless as a connector can be, for the secret-leak test: it logs the
// URL and the values it was given through `context.logger` at info and warn level, then fails to
// connect (retried) with an error quoting them. Sluice must redact them wherever it shows them: the log,
// the status line and the web UI.
import { defineJob } from "sluice";
import { defineSource, NotConnectedError } from "sluice/connector";
import { z } from "zod";

const leakySource = defineSource({
  name: "leaky",
  version: "1.0.0",
  // Nothing marked secret and no credential-like names: only the values themselves say so.
  config: z.strictObject({ url: z.string(), quoted: z.array(z.string()) }),
  capabilities: { replayable: false },
  create: (config, context) => {
    const quoted = config.quoted.join(" and ");
    return {
      connect: async () => {
        context.logger.info({ url: config.url }, `leaky connecting to ${config.url}`);
        context.logger.warn({ quoted: config.quoted }, `leaky sends ${quoted}`);
        throw new NotConnectedError(`leaky cannot reach ${config.url} sending ${quoted}`);
      },
      read: async () => {
        throw new Error("never connected");
      },
      pause: () => {},
      resume: () => {},
      close: async () => {},
    };
  },
});

export default defineJob<{ readonly leaky: unknown }>((ctx, args) => {
  ctx.source(leakySource, args.leaky).print();
});
