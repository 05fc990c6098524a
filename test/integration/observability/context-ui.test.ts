// The `ui` option of a StreamingContext: the UI and /metrics listen from start() to stop(),
// bound to loopback unless told otherwise, and refused off loopback without a token.
import { once } from "node:events";
import { createServer } from "node:net";
import { batchSize, StreamingContext } from "sluice";
import { redactText } from "sluice/connector";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

// Conditions are polled; the bound only ends a test that would otherwise hang.
const WAIT = { timeout: 30_000, interval: 10 };

const open: { ctx?: StreamingContext } = {};
afterEach(async () => {
  await open.ctx?.stop();
  open.ctx = undefined;
});

async function scrape(url: string) {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

describe("StreamingContext's ui option", () => {
  it("serves /metrics while the context runs and closes the server when it stops", async () => {
    const clock = new ManualClock(0);
    const ctx = new StreamingContext({
      batchInterval: 1000,
      clock,
      appName: "context-ui",
      ui: { port: 0 },
    });
    open.ctx = ctx;
    const seen: number[] = [];
    ctx.queueStream([[1, 2, 3]]).foreachBatch((batch) => {
      seen.push(batchSize(batch));
    });
    expect(ctx.uiUrl).toBeUndefined();

    await ctx.start();
    const url = ctx.uiUrl;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    clock.advance(1000);
    await vi.waitFor(() => expect(seen).toEqual([3]), WAIT);
    await vi.waitFor(async () => {
      const families = await scrape(url ?? "");
      expect(sampleValue(families, "sluice_input_records_total", { source: "input-0" })).toBe(3);
      expect(sampleValue(families, "sluice_batch_processing_seconds_count")).toBe(1);
    }, WAIT);
    const page = await fetch(url ?? "");
    expect(page.status).toBe(200);
    await page.arrayBuffer();

    await ctx.stop();
    expect(ctx.uiUrl).toBeUndefined();
    await expect(fetch(`${url}metrics`)).rejects.toThrow();
  });

  it("makes its token a secret: redacted wherever text is printed", async () => {
    const token = "context-ui-token-7f3a9c";
    const ctx = new StreamingContext({
      batchInterval: 1000,
      clock: new ManualClock(0),
      ui: { port: 0, token },
    });
    open.ctx = ctx;
    ctx.queueStream([[1]]).foreachBatch(() => {});
    await ctx.start();
    expect(redactText(`Authorization: Bearer ${token}`)).not.toContain(token);
  });

  it("is off without the option", async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    open.ctx = ctx;
    ctx.queueStream([[1]]).foreachBatch(() => {});
    await ctx.start();
    expect(ctx.uiUrl).toBeUndefined();
  });

  it("refuses a non-loopback host without a token when the context is built", () => {
    const build = (ui: { host?: string; port: number; token?: string }) => () =>
      new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0), ui });
    expect(build({ host: "0.0.0.0", port: 0 })).toThrow(
      expect.objectContaining({
        code: "SLUICE_UI_TOKEN_REQUIRED",
        message: expect.stringContaining("ui.token"),
      }),
    );
    // Other problems are listed together first, as for every other option.
    expect(build({ host: "0.0.0.0", port: 70_000 })).toThrow(
      expect.objectContaining({
        code: "SLUICE_INVALID_ARGUMENT",
        message: expect.stringContaining("ui.port must be an integer from 0 to 65535"),
      }),
    );
    expect(build({ host: "0.0.0.0", port: 0, token: "0123456789abcdef-token" })).not.toThrow();
    expect(build({ host: "localhost", port: 0 })).not.toThrow();
  });

  it("fails start() when the UI cannot listen, and the context ends stopped", async () => {
    const taken = createServer();
    taken.listen(0, "127.0.0.1");
    await once(taken, "listening");
    try {
      const address = taken.address();
      if (address === null || typeof address === "string") throw new Error("not listening");
      const ctx = new StreamingContext({
        batchInterval: 1000,
        clock: new ManualClock(0),
        ui: { port: address.port },
      });
      open.ctx = ctx;
      ctx.queueStream([[1]]).foreachBatch(() => {});
      await expect(ctx.start()).rejects.toMatchObject({ code: "SLUICE_UI_LISTEN_FAILED" });
      expect(ctx.state).toBe("STOPPED");
      expect(ctx.uiUrl).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
