import { describeSourceConformance } from "sluice/testing/conformance";
import { WebhookSource, webhookSource } from "../src/index.js";
import { RetryingSender } from "./webhook-client.js";

const TOKEN = "conformance-token-0123456789";
const decoder = new TextDecoder();

function webhookOf(source: unknown): WebhookSource {
  if (!(source instanceof WebhookSource)) throw new Error("expected the webhook source");
  return source;
}

describeSourceConformance(
  "webhook (sample package)",
  () => {
    const sender = new RetryingSender(TOKEN);
    return {
      plugin: webhookSource,
      config: { port: 0, path: "/hooks/test", token: TOKEN },
      secretValues: [TOKEN],
      // One request per call, its body one record per line, answered once acknowledged.
      produce: async (values, source) =>
        sender.send(
          webhookOf(source).url,
          values.map((value) => decoder.decode(value)),
        ),
      dropConnections: async () => sender.dropConnections(),
      // The sender posts a request again until it is answered 200.
      pending: async () => sender.pendingLines,
      cleanup: () => sender.stop(),
    };
  },
  {
    invalidConfig: {
      config: { port: -1, path: "hooks", token: "short-secret" },
      paths: ["port", "path", "token"],
      secrets: ["short-secret"],
    },
    notApplicable: {
      endOfInput: "a webhook has no end of input; it receives until the job stops",
      restart:
        "a sender posts to the address of the instance it was given; a new instance listens on another port (the sender's retry after a 503 from close() is checked in webhook-source.test.ts)",
      seek: "a webhook is not replayable",
    },
  },
);
