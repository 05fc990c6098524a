// The UI server in-process, on a manual clock: what /api/job, /api/batches and the event
// stream say about the batches that ran, /metrics' numbers, and who the server answers.
import { request } from "node:http";
import { batchSize, SluiceError, StreamingContext, startUi, type UiHandle } from "sluice";
import { ManualClock } from "sluice/testing";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** A GET with the headers given (fetch would not let the test set Host). */
function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    })
      .on("error", reject)
      .end();
  });
}

// Conditions are polled; the bound only ends a test that would otherwise hang.
const WAIT = { timeout: 30_000, interval: 10 };

const open: { ctx?: StreamingContext; ui?: UiHandle } = {};
afterEach(async () => {
  await open.ui?.close();
  await open.ctx?.stop();
  open.ui = undefined;
  open.ctx = undefined;
});

/** A job on a manual clock: three batches of 2, 0 and 3 numbers, two output operations. */
async function startJob(options: { token?: string } = {}) {
  const clock = new ManualClock(0);
  const ctx = new StreamingContext({ batchInterval: 1000, clock, appName: "ui-test" });
  open.ctx = ctx;
  const numbers = ctx.queueStream([[1, 2], [], [3, 4, 5]]);
  const seen: number[] = [];
  numbers.foreachBatch((batch) => {
    seen.push(batchSize(batch));
  });
  numbers.map((n) => n * 2).print();
  const ui = await startUi(ctx, { port: 0, ...options });
  open.ui = ui;
  await ctx.start();
  return { ctx, clock, ui, seen };
}

describe("the UI server", () => {
  it("shows the batches that ran, with their output operations, and counts them in /metrics", async () => {
    const { clock, ui, seen } = await startJob();
    for (let batch = 1; batch <= 3; batch++) {
      clock.advance(1000);
      await vi.waitFor(() => expect(seen).toHaveLength(batch), WAIT);
    }
    await vi.waitFor(async () => {
      const job = JSON.parse((await get(`${ui.url}api/job`)).body);
      expect(job.completedBatches).toBe(3);
    }, WAIT);
    const job = JSON.parse((await get(`${ui.url}api/job`)).body);
    expect(job.appName).toBe("ui-test");
    expect(job.totalRecords).toBe(5);
    expect(
      job.batches.map((batch: { batchTime: number; records: number; status: string }) => [
        batch.batchTime,
        batch.records,
        batch.status,
      ]),
    ).toEqual([
      [1000, 2, "completed"],
      [2000, 0, "completed"],
      [3000, 3, "completed"],
    ]);

    const batch = JSON.parse((await get(`${ui.url}api/batches/3000`)).body);
    expect(
      batch.outputOperations.map((op: { id: number; name: string; status: string }) => [
        op.id,
        op.name,
        op.status,
      ]),
    ).toEqual([
      [0, "foreachBatch", "succeeded"],
      [1, "print", "succeeded"],
    ]);
    expect((await get(`${ui.url}api/batches/999`)).status).toBe(404);

    const metrics = await get(`${ui.url}metrics`);
    expect(metrics.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusText(metrics.body);
    expect(sampleValue(families, "sluice_input_records_total", { source: "input-0" })).toBe(5);
    expect(sampleValue(families, "sluice_batch_processing_seconds_count")).toBe(3);
    expect(sampleValue(families, "sluice_scheduling_delay_seconds_count")).toBe(3);
    expect(sampleValue(families, "sluice_output_records_total", { operation: "1:print" })).toBe(5);
    expect(families.has("process_cpu_user_seconds_total")).toBe(true);
    expect(families.has("nodejs_eventloop_lag_seconds")).toBe(true);
  });

  it("pushes each batch to a connected page as a server-sent event", async () => {
    const { clock, ui } = await startJob();
    const response = await fetch(`${ui.url}api/events`);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (reader === undefined) throw new Error("no event stream body");
    clock.advance(1000);
    let received = "";
    while (!/event: batch\ndata: .*"status":"completed"/.test(received)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended; received:\n${received}`);
      received += value;
    }
    const completed = /event: batch\ndata: (.*"status":"completed".*)\n/.exec(received)?.[1] ?? "";
    const change = JSON.parse(completed);
    expect(change.batch.batchTime).toBe(1000);
    expect(change.batch.records).toBe(2);
    expect(change.totals).toEqual({ completedBatches: 1, totalRecords: 2 });
    await reader.cancel();
  });

  it("serves the pages and uPlot from the package", async () => {
    const { ui } = await startJob();
    const page = await get(ui.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/assets/uPlot.iife.min.js" defer></script>');
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const uplot = await get(`${ui.url}assets/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.body).toContain("uPlot");
    expect((await get(`${ui.url}batches/1000`)).body).toBe(page.body);
    expect((await get(`${ui.url}assets/package.json`)).status).toBe(404);
  });

  it("answers only loopback host names without a token (no DNS rebinding)", async () => {
    const { ui } = await startJob();
    expect((await get(`${ui.url}metrics`, { host: "evil.example:80" })).status).toBe(421);
    expect((await get(`${ui.url}metrics`, { host: "localhost" })).status).toBe(200);
  });

  it("with a token, answers only requests that carry it", async () => {
    const token = "0123456789abcdef-token";
    const { ui } = await startJob({ token });
    expect((await get(`${ui.url}metrics`)).status).toBe(401);
    expect(
      (await get(`${ui.url}metrics`, { authorization: "Bearer wrong-token-000000" })).status,
    ).toBe(401);
    expect((await get(`${ui.url}metrics`, { authorization: `Bearer ${token}` })).status).toBe(200);
    const opened = await get(`${ui.url}?token=${token}`);
    expect(opened.status).toBe(303);
    expect(opened.headers.location).toBe("/");
    const cookie = String(opened.headers["set-cookie"]).split(";")[0] ?? "";
    expect(cookie).toBe(`sluice_ui_token=${token}`);
    expect((await get(`${ui.url}api/job`, { cookie })).status).toBe(200);
  });

  it("refuses a non-loopback address without a token, and listens nowhere", async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    open.ctx = ctx;
    const attempt = startUi(ctx, { host: "0.0.0.0", port: 0 });
    await expect(attempt).rejects.toThrow(SluiceError);
    await expect(attempt).rejects.toMatchObject({
      code: "SLUICE_UI_TOKEN_REQUIRED",
      message: expect.stringContaining("ui.token"),
    });
    await expect(startUi(ctx, { port: 0, token: "short" })).rejects.toMatchObject({
      code: "SLUICE_INVALID_ARGUMENT",
      message: expect.stringContaining("ui.token must be a string of at least 16 characters"),
    });
  });

  it("serves only /metrics when asked", async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock(0) });
    open.ctx = ctx;
    const ui = await startUi(ctx, { port: 0, metricsOnly: true });
    open.ui = ui;
    expect((await get(`${ui.url}metrics`)).status).toBe(200);
    expect((await get(ui.url)).status).toBe(404);
  });
});
