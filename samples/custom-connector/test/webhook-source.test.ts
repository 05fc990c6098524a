import { type ConnectorRegistry, createConnectorRegistry } from "sluice/advanced";
import { LogCapture } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WebhookSource, webhookSource } from "../src/index.js";
import { post } from "./webhook-client.js";

// Only stops a wait that hangs: connecting to and reading from the webhook's HTTP server can take
// seconds on a loaded machine.
const DEADLINE_MS = 20_000;

const TOKEN = "sample-token-abcdefghijklmnop";
const auth = { authorization: `Bearer ${TOKEN}` };
const ndjson = { ...auth, "content-type": "application/x-ndjson" };
const decoder = new TextDecoder();
let registry: ConnectorRegistry;
let source: WebhookSource;

beforeEach(async () => {
  registry = createConnectorRegistry({ logger: new LogCapture().logger }).use(webhookSource);
  const created = registry.createSource("webhook", {
    port: 0,
    path: "/in",
    token: TOKEN,
  }).connector;
  if (!(created instanceof WebhookSource)) throw new Error("expected the webhook source");
  source = created;
  await source.connect(AbortSignal.timeout(DEADLINE_MS));
});

afterEach(async () => {
  await registry.dispose();
});

describe("webhook source (sample)", () => {
  it("holds the request open until ack, then answers 200", async () => {
    let answered = false;
    const answer = post(source.url, "a\nb\n", ndjson).then((result) => {
      answered = true;
      return result;
    });
    const result = await source.read(AbortSignal.timeout(DEADLINE_MS));
    expect(result.records.map((record) => decoder.decode(record.value))).toEqual(["a", "b"]);
    // The records are read but not yet acknowledged: the sender is still waiting.
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    result.ack();
    expect(await answer).toEqual({ status: 200, retryAfter: undefined });
  });

  it("answers 503 with Retry-After when the records are nacked", async () => {
    const answer = post(source.url, "x\n", ndjson);
    const result = await source.read(AbortSignal.timeout(DEADLINE_MS));
    result.ack(new Error("the batch failed"));
    expect(await answer).toEqual({ status: 503, retryAfter: "1" });
  });

  it("answers once every record of a request is settled, 503 if any was nacked", async () => {
    await registry.dispose();
    registry = createConnectorRegistry({ logger: new LogCapture().logger }).use(webhookSource);
    const small = registry.createSource("webhook", { port: 0, maxRecordsPerRead: 2 })
      .connector as WebhookSource;
    await small.connect(AbortSignal.timeout(DEADLINE_MS));
    const answer = post(small.url, "1\n2\n3\n", { "content-type": "application/x-ndjson" });
    const first = await small.read(AbortSignal.timeout(DEADLINE_MS));
    const second = await small.read(AbortSignal.timeout(DEADLINE_MS));
    expect([first.records.length, second.records.length]).toEqual([2, 1]);
    second.ack(new Error("nack"));
    first.ack();
    expect((await answer).status).toBe(503);
  });

  it("takes a plain body as one record, with its key and x- headers but never the credentials", async () => {
    const answer = post(source.url, '{"id":7}', {
      ...auth,
      "content-type": "application/json",
      "x-record-key": "order-7",
      "x-tenant": "acme",
    });
    const result = await source.read(AbortSignal.timeout(DEADLINE_MS));
    const [record] = result.records;
    expect(decoder.decode(record?.value)).toBe('{"id":7}');
    expect(decoder.decode(record?.key)).toBe("order-7");
    expect(Object.keys(record?.headers ?? {}).sort()).toEqual(["content-type", "x-tenant"]);
    expect(decoder.decode(record?.headers["x-tenant"])).toBe("acme");
    result.ack();
    expect((await answer).status).toBe(200);
  });

  it("turns away wrong credentials, paths, methods and oversized bodies", async () => {
    expect((await post(source.url, "x", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await post(source.url.replace("/in", "/elsewhere"), "x", auth)).status).toBe(404);
    const big = "y".repeat(1024 * 1024 + 1);
    expect((await post(source.url, big, auth)).status).toBe(413);
    const get = await fetch(source.url, { headers: auth });
    expect(get.status).toBe(405);
  });

  it("answers 503 while paused, so senders come back later", async () => {
    source.pause();
    expect(await post(source.url, "x\n", ndjson)).toEqual({ status: 503, retryAfter: "1" });
    source.resume();
    const answer = post(source.url, "x\n", ndjson);
    (await source.read(AbortSignal.timeout(DEADLINE_MS))).ack();
    expect((await answer).status).toBe(200);
  });

  it("answers held requests with 503 when it closes", async () => {
    const answer = post(source.url, "x\n", ndjson);
    await source.read(AbortSignal.timeout(DEADLINE_MS));
    await source.close();
    expect((await answer).status).toBe(503);
  });

  it("never shows its token when printed", () => {
    const instance = registry.createSource("webhook", { port: 0, token: TOKEN });
    expect(String(instance)).not.toContain(TOKEN);
    expect(JSON.stringify(instance)).not.toContain(TOKEN);
    expect(String(instance)).toContain('"token":"[redacted]"');
  });
});
