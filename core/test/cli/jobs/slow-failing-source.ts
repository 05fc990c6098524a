// A job whose source reports its first connection failure only after a while, as clients that
// retry on their own do, for the CLI's connect timeout.
import { defineJob } from "sluice";
import { defineSource, NotConnectedError } from "sluice/connector";
import { z } from "zod";

const slowFailing = defineSource({
  name: "slow-failing",
  version: "1.0.0",
  config: z.strictObject({ failAfterMs: z.number() }),
  capabilities: { replayable: false },
  create: (config) => ({
    connect: async () => {
      await new Promise((resolve) => setTimeout(resolve, config.failAfterMs));
      throw new NotConnectedError("nothing answers at 127.0.0.1:1 (test)");
    },
    read: async () => ({ records: [], ack: () => {} }),
    pause: () => {},
    resume: () => {},
    close: async () => {},
  }),
});

export default defineJob<{ readonly failAfterMs: number }>((ctx, args) => {
  ctx.use(slowFailing).source("slow-failing", { failAfterMs: args.failAfterMs }).print();
});
