// The web UI in a real headless Chromium (Debian's chromium package, driven by playwright-core):
// a `sluice run` on the socket source with --ui, the charts filling with the batches that ran,
// the batch table updating without a reload, and a batch's page listing its output operations.
// Screenshots go to $SLUICE_UI_SCREENSHOTS when set (docs/images for the docs), else a temp dir.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterEach, describe, expect, it } from "vitest";
import { SluiceProcess } from "../../samples/sluice-process.js";
import { announcedUrl, LineServer, observedJob } from "./observed-run.js";

/** Where Chromium is: $CHROMIUM_PATH, else `chromium` on the PATH; a clear failure otherwise. */
function chromiumExecutable(): string {
  const configured = process.env.CHROMIUM_PATH;
  if (configured !== undefined && configured !== "") return configured;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(
      "the UI's browser test needs Debian's chromium: run scripts/services/install (or apt-get install chromium), or set CHROMIUM_PATH",
    );
  }
}

async function screenshotDirectory(): Promise<string> {
  const asked = process.env.SLUICE_UI_SCREENSHOTS;
  if (asked === undefined || asked === "") return mkdtemp(join(tmpdir(), "sluice-ui-"));
  const directory = resolve(asked);
  await mkdir(directory, { recursive: true });
  return directory;
}

/** The number a chart row says it plots (its data-points attribute). */
function plottedPoints(page: Page, chart: string): Promise<number> {
  return page
    .locator(`tr[data-chart="${chart}"]`)
    .getAttribute("data-points")
    .then((points) => Number(points ?? 0));
}

/**
 * The little of the page's globals the functions run in it use (the tests type-check without the
 * DOM library; the casts vanish before the functions reach the page).
 */
interface PageGlobals {
  loadedOnce?: boolean;
  readonly document: {
    querySelector(selector: string): {
      getAttribute(name: string): string | null;
      readonly textContent: string | null;
    } | null;
    querySelectorAll(selector: string): { readonly length: number };
  };
}

const running: { sluice?: SluiceProcess; lines?: LineServer; browser?: Browser } = {};
afterEach(async () => {
  await running.browser?.close();
  running.sluice?.kill();
  await running.lines?.close();
});

describe("the web UI in Chromium", () => {
  it("fills the charts, updates the batch table live and shows a batch's output operations", async () => {
    const executablePath = chromiumExecutable();
    const screenshots = await screenshotDirectory();
    const lines = await LineServer.start();
    running.lines = lines;
    const sluice = new SluiceProcess([
      "run",
      observedJob("socket-lines.ts"),
      "--batch",
      "250ms",
      "--ui",
      "127.0.0.1:0",
      "--json",
      "--set",
      "job.host=127.0.0.1",
      "--set",
      `job.port=${lines.port}`,
    ]);
    running.sluice = sluice;
    const url = await announcedUrl(sluice);
    await lines.connected();

    let sent = 0;
    const sendRound = async (round: number, count: number): Promise<void> => {
      lines.send(Array.from({ length: count }, (_, i) => `round ${round} line ${i}`));
      sent += count;
      await sluice.waitForStdout(
        (stdout) => stdout.includes(`ROUND ${round} LINE ${count - 1}\n`),
        `round ${round} printed`,
        120_000,
      );
    };
    for (const [round, count] of [30, 90, 60].entries()) await sendRound(round, count);

    const browser = await chromium.launch({
      executablePath,
      headless: true,
      args: ["--no-sandbox", "--disable-dev-shm-usage"],
    });
    running.browser = browser;
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // Waits are on conditions; the bound only ends a test that would hang on a loaded machine.
    page.setDefaultTimeout(120_000);
    const pageErrors: string[] = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    await page.goto(url);
    await page.locator('.connection[data-state="live"]').waitFor();

    // Every chart draws a timeline and a histogram of the batches that completed.
    await page.waitForFunction(
      () =>
        Number(
          (globalThis as unknown as PageGlobals).document
            .querySelector('tr[data-chart="inputRate"]')
            ?.getAttribute("data-points"),
        ) >= 3,
    );
    for (const chart of ["inputRate", "schedulingDelay", "processingTime", "totalDelay"]) {
      expect(await plottedPoints(page, chart)).toBeGreaterThanOrEqual(3);
      expect(await page.locator(`tr[data-chart="${chart}"] td.timeline canvas`).count()).toBe(1);
      expect(await page.locator(`tr[data-chart="${chart}"] td.histogram canvas`).count()).toBe(1);
    }
    await page.locator('[data-field="totalRecords"] dd', { hasText: String(sent) }).waitFor();

    // More records arrive: the table and the totals follow without the page being loaded again.
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).loadedOnce = true;
    });
    const rowsBefore = await page.locator("#completed-batches tbody tr").count();
    await sendRound(3, 120);
    await page.locator('[data-field="totalRecords"] dd', { hasText: String(sent) }).waitFor();
    await page.waitForFunction(
      (before) =>
        (globalThis as unknown as PageGlobals).document.querySelectorAll(
          "#completed-batches tbody tr",
        ).length > before,
      rowsBefore,
    );
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).loadedOnce)).toBe(true);
    const recordsShown = await page
      .locator("#completed-batches tbody tr td:nth-child(2)")
      .allTextContents();
    expect(recordsShown.reduce((sum, text) => sum + Number(text.replace(/,/g, "")), 0)).toBe(sent);
    // Read in one turn of the page, so that no batch lands between the two readings.
    const shown = await page.evaluate(() => {
      const { document } = globalThis as unknown as PageGlobals;
      return {
        rows: document.querySelectorAll("#completed-batches tbody tr").length,
        completed: document.querySelector('[data-field="completedBatches"] dd')?.textContent,
      };
    });
    expect(String(shown.rows)).toBe(shown.completed);
    await page.screenshot({ path: join(screenshots, "ui-job.png"), fullPage: true });

    // A batch with records: its page lists both output operations of the job.
    const busyRow = page
      .locator("#completed-batches tbody tr")
      .filter({ has: page.locator("td:nth-child(2)", { hasNotText: /^0$/ }) })
      .first();
    await busyRow.locator("a").click();
    await page.waitForURL(/\/batches\/\d+$/);
    const operations = page.locator("#output-operations tbody tr");
    await operations.nth(1).waitFor();
    expect(await operations.count()).toBe(2);
    expect(await operations.locator("td:nth-child(2)").allTextContents()).toEqual([
      "print",
      "foreachBatch",
    ]);
    expect(await operations.locator("td:nth-child(3)").allTextContents()).toEqual([
      "succeeded",
      "succeeded",
    ]);
    await page.screenshot({ path: join(screenshots, "ui-batch.png"), fullPage: true });

    expect(pageErrors).toEqual([]);
    const exit = await sluice.stop();
    expect(exit.code).toBe(0);
  }, 180_000);
});
