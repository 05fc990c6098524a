import { batchRecords, StreamingContext } from "sluice";
import type { SourceInputDStream } from "sluice/advanced";
import { ManualClock } from "sluice/testing";
import { describe, expect, it, vi } from "vitest";
import { WebhookSource, webhookSource } from "../src/index.js";
import { post } from "./webhook-client.js";

describe("the webhook source in a streaming job", () => {
  it("answers the sender only once the batch holding its records was output", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
    const input = ctx.source(webhookSource, { port: 0, path: "/orders" }) as SourceInputDStream;
    const outputs: [number, string[]][] = [];
    input
      .map((record) => new TextDecoder().decode(record.value))
      .foreachBatch((batch, time) => {
        outputs.push([time, batchRecords(batch)]);
      });
    await ctx.start();
    const webhook = input.connector.connector;
    if (!(webhook instanceof WebhookSource)) throw new Error("expected the webhook source");
    const url = await vi.waitFor(() => webhook.url);

    let answered = false;
    const answer = post(url, '{"id":1}\n{"id":2}\n', { "content-type": "application/x-ndjson" });
    void answer.then(() => {
      answered = true;
    });
    await vi.waitFor(() => expect(input.hasPendingData()).toBe(true));
    expect(answered).toBe(false);

    clock.advance(1000);
    expect((await answer).status).toBe(200);
    expect(outputs).toEqual([[1000, ['{"id":1}', '{"id":2}']]]);
    await ctx.stop();
  });
});
