// Scrapes /metrics of a running `sluice run` whose socket source reads lines from the test, and
// checks the counters against the records sent and the histograms against the batches that ran.
import { afterEach, describe, expect, it, vi } from "vitest";
import { SluiceProcess } from "../../samples/sluice-process.js";
import { announcedUrl, completedBatches, LineServer, observedJob } from "./observed-run.js";
import { type PrometheusFamily, parsePrometheusText, sampleValue } from "./prometheus-text.js";

const running: { sluice?: SluiceProcess; lines?: LineServer } = {};
afterEach(async () => {
  running.sluice?.kill();
  await running.lines?.close();
});

async function scrape(url: string): Promise<Map<string, PrometheusFamily>> {
  const response = await fetch(`${url}metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

// Each test starts `sluice run` (tsx compiles the job first): generous on a loaded machine; the
// waits inside are on conditions, this only ends a test that would hang.
const PROCESS_TEST_TIMEOUT_MS = 180_000;

describe("/metrics of a running job", { timeout: PROCESS_TEST_TIMEOUT_MS }, () => {
  it("counts every record the source brought and every batch that completed", async () => {
    const lines = await LineServer.start();
    running.lines = lines;
    const sluice = new SluiceProcess([
      "run",
      observedJob("socket-lines.ts"),
      "--batch",
      "200ms",
      "--metrics",
      "127.0.0.1:0",
      "--json",
      "--set",
      "job.host=127.0.0.1",
      "--set",
      `job.port=${lines.port}`,
    ]);
    running.sluice = sluice;
    const url = (await announcedUrl(sluice, "metrics")).replace(/metrics$/, "");
    await lines.connected();

    // Three rounds, each seen on stdout before the next, so the records span several batches.
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      const batch = Array.from({ length: 40 }, (_, i) => `round ${round} line ${i}`);
      lines.send(batch);
      sent += batch.length;
      await sluice.waitForStdout(
        (stdout) => stdout.includes(`ROUND ${round} LINE 39\n`),
        `round ${round} printed`,
        120_000,
      );
    }

    // The batch that printed the last line may still be completing: wait until it is counted.
    const families = await vi.waitFor(
      async () => {
        const scraped = await scrape(url);
        const series = scraped.get("sluice_input_records_total")?.samples ?? [];
        expect(series.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThanOrEqual(sent);
        return scraped;
      },
      { timeout: 120_000, interval: 50 },
    );
    const [inputSeries, ...otherInputs] = families.get("sluice_input_records_total")?.samples ?? [];
    expect(otherInputs).toEqual([]);
    expect(inputSeries?.labels.source).toMatch(/socket/);
    expect(inputSeries?.value).toBe(sent);

    // Every batch up to the last one the scrape counted, as the CLI's progress reports them.
    const lastBatchTime = sampleValue(families, "sluice_last_completed_batch_time_seconds") * 1000;
    await vi.waitFor(
      () =>
        expect(completedBatches(sluice.stderr).some((b) => b.batchTime === lastBatchTime)).toBe(
          true,
        ),
      { timeout: 120_000, interval: 20 },
    );
    const batches = completedBatches(sluice.stderr).filter((b) => b.batchTime <= lastBatchTime);
    expect(batches.reduce((sum, b) => sum + b.records, 0)).toBe(sent);
    for (const histogram of [
      "sluice_batch_processing_seconds",
      "sluice_scheduling_delay_seconds",
      "sluice_batch_total_delay_seconds",
    ]) {
      expect(families.get(histogram)?.type).toBe("histogram");
      expect(sampleValue(families, `${histogram}_count`)).toBe(batches.length);
    }
    expect(sampleValue(families, "sluice_output_records_total", { operation: "0:print" })).toBe(
      sent,
    );
    expect(families.has("process_resident_memory_bytes")).toBe(true);

    // The job runs on: a second scrape sees at least as many batches.
    const later = await scrape(url);
    expect(sampleValue(later, "sluice_batch_processing_seconds_count")).toBeGreaterThanOrEqual(
      batches.length,
    );
    const exit = await sluice.stop();
    expect(exit.code).toBe(0);
  });
});
