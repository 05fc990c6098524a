import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createJobContext, type StreamingContext } from "sluice";
import { ManualClock, waitingInputRecords } from "sluice/testing";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { dropFile, temporaryFolder } from "../../../test/samples/files.js";
import { SeededRandom } from "../../../test/samples/seeded-random.js";
import { SluiceProcess, samplePath } from "../../../test/samples/sluice-process.js";
import type { ErrorLogArgs } from "../job.js";

const JOB = new URL("../job.ts", import.meta.url);
const LINE = /^\[(\S+)\] (\d+) lines with "ERROR" in the last (.+)$/;

let folder: { path: string; remove: () => Promise<void> };
let ctx: StreamingContext | undefined;
beforeEach(async () => {
  folder = await temporaryFolder("error-logs");
});
afterEach(async () => {
  vi.restoreAllMocks();
  await ctx?.stop();
  ctx = undefined;
  await folder.remove();
});

/** A log file of `errors` ERROR lines among others; no other line holds the text "ERROR". */
function logText(random: SeededRandom, errors: number): string {
  const lines: string[] = [];
  for (let i = 0; i < errors; i++) lines.push(`2025-01-15T08:00:00Z ERROR payment failed #${i}`);
  for (let i = random.int(0, 12); i > 0; i--) {
    lines.push(`2025-01-15T08:00:00Z ${random.pick(["INFO", "WARN", "DEBUG"])} all fine`);
  }
  // Shuffle, so ERROR lines sit anywhere in the file.
  for (let i = lines.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
  return `${lines.join("\n")}\n`;
}

/** Resolves once `condition` holds (polled; the deadline only stops a hung wait). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited 30 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves when the context has completed the batch at `time`. */
function batchCompleted(context: StreamingContext): (time: number) => Promise<void> {
  const done = new Set<number>();
  const waiting = new Map<number, () => void>();
  context.addListener({
    onBatchCompleted: (info) => {
      done.add(info.batchTime);
      waiting.get(info.batchTime)?.();
    },
  });
  return (time) =>
    done.has(time) ? Promise.resolve() : new Promise((resolve) => waiting.set(time, resolve));
}

describe("samples/error-log-counts", () => {
  it("prints, every 10 s, the ERROR lines of the files that arrived in the last 60 s", async () => {
    const directory = join(folder.path, "logs");
    await mkdir(directory);
    const printed: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    vi.spyOn(process.stdout, "write").mockImplementation((chunk, ...rest) => {
      const text = String(chunk);
      if (LINE.test(text.trim())) printed.push(text.trim());
      else return write(chunk, ...(rest as []));
      return true;
    });

    // Batches of 5 s on a manual clock: the window is 12 batches, the slide 2. Nothing sleeps.
    const batchMs = 5_000;
    const clock = new ManualClock(0);
    const args: ErrorLogArgs = { directory, window: "60s", slide: "10s" };
    ctx = await createJobContext({ module: JOB, args }, { batchInterval: batchMs, clock });
    const live = ctx;
    const completed = batchCompleted(ctx);
    await ctx.start();

    const random = new SeededRandom(42);
    const errorsInBatch: number[] = []; // index k: the batch at (k + 1) * 5 s
    const batches = 30; // 20 with files, then 10 without, so the counts fall back to 0
    for (let k = 0; k < batches; k++) {
      let errors = 0;
      let lines = 0;
      // At least one file per batch while files come (a file has at least one line), so the
      // test can see each batch take its lines before the next files land.
      const files = k < 20 ? random.int(1, 3) : 0;
      for (let f = 0; f < files; f++) {
        const count = random.int(0, 6);
        errors += count;
        const text = logText(random, count);
        lines += text.split("\n").length - 1;
        await dropFile(directory, `app-${k}-${f}.log`, text);
      }
      errorsInBatch.push(errors);
      // The file source reads in the background: the batch ends once it holds every line.
      await until(() => waitingInputRecords(live) === lines, `the lines of batch ${k} read`);
      clock.advance(batchMs);
      // The batch has taken them once none wait (every file has a line, so lines > 0 here).
      if (lines > 0) await until(() => waitingInputRecords(live) === 0, `batch ${k} cut`);
      // A batch runs jobs only at multiples of the slide (the only output is the windowed count).
      if (((k + 1) * batchMs) % 10_000 === 0) await completed((k + 1) * batchMs);
    }

    // Ground truth: at every multiple of the slide, the ERROR lines of the batches in (t - 60 s, t].
    const expected: string[] = [];
    for (let time = 10_000; time <= batches * batchMs; time += 10_000) {
      let count = 0;
      errorsInBatch.forEach((errors, k) => {
        const batchTime = (k + 1) * batchMs;
        if (batchTime > time - 60_000 && batchTime <= time) count += errors;
      });
      expected.push(
        `[${new Date(time).toISOString()}] ${count} lines with "ERROR" in the last 60 s`,
      );
    }
    expect(errorsInBatch.reduce((a, b) => a + b, 0)).toBeGreaterThan(20);
    expect(printed).toEqual(expected);
  });

  it("refuses a window that is not a multiple of the batch interval, naming valid values", async () => {
    const args: ErrorLogArgs = { directory: folder.path, window: "2500ms", slide: "1s" };
    await expect(
      createJobContext({ module: JOB, args }, { batchInterval: "1s", clock: new ManualClock(0) }),
    ).rejects.toThrowError(
      "the window duration 2500 ms must be a multiple of the parent's slide duration 1000 ms; valid values are 1000 ms, 2000 ms, 3000 ms, ...",
    );
  });

  it("runs under the CLI in real time: a file's ERROR lines show up in a window, then leave it", async () => {
    const directory = join(folder.path, "logs");
    await mkdir(directory);
    const sluice = new SluiceProcess([
      "run",
      samplePath("error-log-counts", "job.ts"),
      "--batch",
      "100ms",
      "--set",
      `job.directory=${directory}`,
      "--set",
      "job.window=600ms",
      "--set",
      "job.slide=200ms",
    ]);
    try {
      const counts = (): number[] =>
        sluice.stdout
          .split("\n")
          .map((line) => LINE.exec(line))
          .filter((match) => match !== null)
          .map((match) => Number(match[2]));
      await sluice.waitForStdout(() => counts().length > 0, "a first window");
      await dropFile(directory, "app.log", logText(new SeededRandom(3), 7));
      await sluice.waitForStdout(() => counts().includes(7), "a window holding the 7 ERROR lines");
      const seen = counts().length;
      await sluice.waitForStdout(
        () => counts().slice(seen).includes(0),
        "a later window without them",
      );
      const exit = await sluice.stop();
      expect(exit.code, sluice.describe()).toBe(0);
      expect(exit.stderr).toMatch(/^error-log-counts: stopped after \d+ batches/m);
      // Only 0 and 7 are possible: the file is read whole, in one batch.
      expect(new Set(counts())).toEqual(new Set([0, 7]));
      expect(exit.stdout).toMatch(/lines with "ERROR" in the last 600 ms$/m);
    } finally {
      sluice.kill();
    }
  });
});
