// Everything the web UI and /metrics answer over HTTP, for a job whose connectors hold secrets
// and fail quoting them: the pages' data (/api/job, /api/batches), /metrics, the page itself, and
// the answer to a request the server fails on (a 500), which once carried the error's text.
import { request } from "node:http";
import { type Batch, StreamingContext, secret, startUi, type UiHandle } from "sluice";
import { defineSource, NotConnectedError, REDACTED } from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import type { JobObserver } from "../../src/observability/job-observer.js";
import { resolveUiOptions } from "../../src/observability/ui-options.js";
import { UiServer } from "../../src/observability/ui-server.js";

const PLANTED = "s3cr3t-PLANTED";
const URL_PASSWORD = "url-pw-PLANTED-4e1b";
const SECRETS = [PLANTED, URL_PASSWORD];
const WAIT = { timeout: 30_000, interval: 10 };

/** A GET of the UI; resolves with the status and the whole body. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
    })
      .on("error", reject)
      .end();
  });
}

/** Reads a server-sent event stream as it comes; `text()` is everything received so far. */
function eventStream(url: string): {
  opened: Promise<void>;
  text: () => string;
  close: () => void;
} {
  let received = "";
  let opened!: () => void;
  const client = request(url, (response) => {
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      received += chunk;
    });
    opened();
  });
  client.on("error", () => undefined);
  client.end();
  return {
    opened: new Promise((resolve) => {
      opened = resolve;
    }),
    text: () => received,
    close: () => client.destroy(),
  };
}

function expectNoSecret(what: string, text: string): void {
  for (const value of SECRETS)
    expect({ what, leaks: text.includes(value) }).toEqual({
      what,
      leaks: false,
    });
}

// A broker's source that never connects, with an error quoting its URL and password as careless
// client libraries do; the password is a `secret()` field, so it is registered when validated.
const brokerSource = defineSource({
  name: "broker",
  version: "1.0.0",
  config: z.strictObject({ url: z.string(), password: secret(z.string()) }),
  capabilities: { replayable: false },
  create: (config) => ({
    connect: async () => {
      throw new NotConnectedError(`login to ${config.url} with ${config.password} refused`);
    },
    read: async () => {
      throw new Error("never connected");
    },
    pause: () => {},
    resume: () => {},
    close: async () => {},
  }),
});

const open: { ctx?: StreamingContext; ui?: UiHandle; server?: UiServer } = {};
afterEach(async () => {
  await open.ui?.close();
  await open.ctx?.stop();
  await open.server?.close();
  open.ui = undefined;
  open.ctx = undefined;
  open.server = undefined;
});

describe("the UI's answers", () => {
  it("show no secret of a failing source's config nor of a failed output", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({ batchInterval: 1000, clock, appName: "ui-secrets" });
    open.ctx = ctx;
    ctx
      .source(brokerSource, { url: `amqp://app:${URL_PASSWORD}@broker:5672`, password: PLANTED })
      .print();
    let outputs = 0;
    ctx.queueStream([[1]]).foreachBatch((_batch: Batch<number>) => {
      outputs++;
      throw new Error(`cannot post to https://app:${URL_PASSWORD}@api.example with ${PLANTED}`);
    });
    const ui = await startUi(ctx, { port: 0 });
    open.ui = ui;
    // The live changes the pages receive, from before the first batch.
    const events = eventStream(`${ui.url}api/events`);
    await events.opened;
    await ctx.start();
    clock.advance(1000);
    await vi.waitFor(() => expect(outputs).toBe(1), WAIT);

    // Both failures reached the page's data, redacted.
    const job = await vi.waitFor(async () => {
      const answer = await get(`${ui.url}api/job`);
      const data = JSON.parse(answer.body) as {
        sources: { lastError?: string }[];
        batches: { batchTime: number; outputOperations: { failureReason?: string }[] }[];
      };
      const lastError = data.sources.find((source) => source.lastError)?.lastError;
      const failure = data.batches
        .flatMap((batch) => batch.outputOperations)
        .find((operation) => operation.failureReason)?.failureReason;
      expect(lastError).toContain(`login to amqp://${REDACTED}@broker:5672 with ${REDACTED}`);
      expect(failure).toContain(`https://${REDACTED}@api.example with ${REDACTED}`);
      return { answer, data };
    }, WAIT);
    expectNoSecret("/api/job", job.answer.body);
    const batchTime = job.data.batches[0]?.batchTime;
    const batch = await get(`${ui.url}api/batches/${batchTime}`);
    expect(batch.status).toBe(200);
    expectNoSecret("/api/batches", batch.body);
    const metrics = await get(`${ui.url}metrics`);
    expect(metrics.body).toContain("sluice_source_errors_total");
    expectNoSecret("/metrics", metrics.body);
    expectNoSecret("/", (await get(ui.url)).body);
    await vi.waitFor(() => {
      expect(events.text()).toContain(`login to amqp://${REDACTED}@broker:5672 with ${REDACTED}`);
      expect(events.text()).toContain(`https://${REDACTED}@api.example with ${REDACTED}`);
    }, WAIT);
    events.close();
    expectNoSecret("/api/events", events.text());
  });

  it("answer a request the server fails on with a 500 that quotes nothing of the error", async () => {
    const failure = new Error(
      `collect failed: amqp://app:${URL_PASSWORD}@broker:5672 refused ${PLANTED}`,
    );
    const reported: unknown[] = [];
    const observer = {
      subscribe: () => () => {},
      snapshot: () => {
        throw failure;
      },
      batch: () => undefined,
    } as unknown as JobObserver;
    const server = new UiServer({
      options: resolveUiOptions({ port: 0 }),
      metrics: {
        contentType: "text/plain",
        text: async () => {
          throw failure;
        },
      },
      observer,
      assets: new Map(),
      onRequestError: (error) => reported.push(error),
    });
    open.server = server;
    const url = await server.listen();
    for (const path of ["metrics", "api/job"]) {
      const answer = await get(`${url}${path}`);
      expect(answer.status).toBe(500);
      expect(answer.body).toContain("internal error");
      expectNoSecret(`500 of /${path}`, answer.body);
    }
    // The error itself goes to whoever started the server (the main thread, which logs it
    // redacted), not to the client.
    expect(reported).toEqual([failure, failure]);
  });
});
