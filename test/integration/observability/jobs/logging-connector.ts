// A job for the logging test: its source is a plugin that logs through the logger Sluice hands
// connectors (`context.logger`) on every call, and the job prints each record on stdout.
import { defineJob } from "sluice";
import { defineSource, EndOfInputError, readResult } from "sluice/connector";
import { z } from "zod";

const chattySource = defineSource({
  name: "chatty",
  version: "1.0.0",
  config: z.strictObject({ records: z.int().min(1) }),
  capabilities: { replayable: false },
  create: (config, context) => {
    let next = 0;
    return {
      connect: async () => {
        context.logger.info({ records: config.records }, "chatty source connected");
      },
      read: async () => {
        if (next >= config.records) {
          context.logger.info("chatty source has nothing more");
          throw new EndOfInputError();
        }
        next++;
        context.logger.info({ record: next }, "chatty source read a record");
        return readResult(
          [
            {
              value: new TextEncoder().encode(`record-${next}`),
              headers: {},
              timestampMs: Date.now(),
              partition: "0",
              offset: String(next),
            },
          ],
          () => undefined,
        );
      },
      pause: () => {},
      resume: () => {},
      close: async () => {
        context.logger.info("chatty source closed");
      },
    };
  },
});

export default defineJob<{ readonly records: number }>((ctx, args) => {
  ctx
    .source(chattySource, { records: args.records })
    .map((record) => new TextDecoder().decode(record.value))
    .print(1000);
});
