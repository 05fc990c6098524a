// Chaos: the word-count job (running totals and a sliding window) reads files and writes files
// while it is killed with SIGKILL at random moments and restarted with getOrCreate; at the end its
// outputs must equal what the files produced say — every record counted exactly once.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chaosRun, problemTimes, runHistory } from "./chaos-run.js";
import {
  consistencyProblems,
  countWords,
  readFileOutput,
  sorted,
  sumOverBatches,
} from "./ground-truth.js";
import { JobProcess, SeededRandom } from "./job-process.js";
import type { ChaosJobSettings } from "./jobs/word-count-settings.js";

const BATCH_MS = 200;
const KILLS = 10;
const WORDS =
  "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon".split(
    " ",
  );

let root: string;
let jobs: JobProcess[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-files-"));
  jobs = [];
});

afterEach(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  await rm(root, { recursive: true, force: true });
});

function settings(): ChaosJobSettings {
  return {
    checkpoint: join(root, "checkpoint"),
    batchIntervalMs: BATCH_MS,
    source: { kind: "file", directory: join(root, "in") },
    outputs: {
      counts: [{ kind: "file", directory: join(root, "out", "counts") }],
      totals: [{ kind: "file", directory: join(root, "out", "totals") }],
      windows: [{ kind: "file", directory: join(root, "out", "windows") }],
    },
  };
}

/** Writes input files (moved in whole, as the file source asks) and counts their words. */
class Producer {
  readonly expected = new Map<string, number>();
  files = 0;
  constructor(
    private readonly directory: string,
    private readonly random: SeededRandom,
  ) {}

  async writeFile(): Promise<void> {
    const lines = Array.from({ length: this.random.int(5, 25) }, () =>
      Array.from({ length: this.random.int(1, 6) }, () => this.random.pick(WORDS)).join(" "),
    );
    const name = `part-${String(this.files++).padStart(5, "0")}.txt`;
    const hidden = join(this.directory, `.${name}.tmp`);
    await writeFile(hidden, `${lines.join("\n")}\n`);
    await rename(hidden, join(this.directory, name));
    countWords(lines, this.expected);
  }

  /** Writes `count` files, one every 20 to 80 ms, while the job runs and dies. */
  async run(count: number, signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < count && signal?.aborted !== true; i++) {
      await this.writeFile();
      await new Promise((resolve) => setTimeout(resolve, this.random.int(20, 80)));
    }
  }
}

function total(counts: ReadonlyMap<string, number>): number {
  return [...counts.values()].reduce((a, b) => a + b, 0);
}

/** Waits until the per-batch counts written add up to `words` words (or gives up). */
async function untilCounted(job: JobProcess, words: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counted = total(sumOverBatches(await readFileOutput(join(root, "out", "counts"))));
    if (counted >= words) return;
    if (Date.now() > deadline) {
      throw new Error(
        `only ${counted} of ${words} words counted within ${timeoutMs} ms\n${job.describe()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function verify(expected: ReadonlyMap<string, number>): Promise<void> {
  const counts = await readFileOutput(join(root, "out", "counts"));
  const totals = await readFileOutput(join(root, "out", "totals"));
  const windows = await readFileOutput(join(root, "out", "windows"));
  // Every record counted once: the per-batch counts add up to the words produced, exactly.
  expect(sorted(sumOverBatches(counts))).toEqual(sorted(expected));
  // The state survived every crash: totals and windows agree with the counts at every batch.
  const problems = consistencyProblems(counts, totals, windows, BATCH_MS);
  expect(problems, runHistory(jobs, problemTimes(problems))).toEqual([]);
  const last = Math.max(...totals.keys());
  expect(sorted(totals.get(last) ?? new Map())).toEqual(sorted(expected));
  expect(windows.size).toBeGreaterThan(0);
}

/** Ten input files, then the job started on them, once it has run a batch with records. */
async function tenFilesAndAJob(seed: number): Promise<{ producer: Producer; first: JobProcess }> {
  await mkdir(join(root, "in"), { recursive: true });
  const producer = new Producer(join(root, "in"), new SeededRandom(seed));
  for (let i = 0; i < 10; i++) await producer.writeFile();
  const first = new JobProcess(settings());
  jobs.push(first);
  await first.waitFor(
    () => first.batches.some((batch) => batch.records > 0),
    "a batch with records",
  );
  return { producer, first };
}

describe("chaos: files in, files out", () => {
  it(`loses nothing and counts nothing twice across ${KILLS} SIGKILLs at random moments`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = new SeededRandom(seed);
    await mkdir(join(root, "in"), { recursive: true });
    const producer = new Producer(join(root, "in"), random);
    const summary = await chaosRun({
      settings: settings(),
      random,
      kills: KILLS,
      produce: (signal) => producer.run(120, signal),
      counted: async () => total(sumOverBatches(await readFileOutput(join(root, "out", "counts")))),
      words: () => total(producer.expected),
      jobs,
      describe: `files (seed ${seed})`,
    });
    // At least half the kills landed on a running job, not on a start-up.
    expect(summary.killedWhileRunning, `seed ${seed}`).toBeGreaterThanOrEqual(KILLS / 2);
    await verify(producer.expected);
    console.info(
      `chaos (files): seed ${seed}, ${producer.files} files, ${total(producer.expected)} words, ${KILLS} kills (${summary.killedWhileRunning} while running), ${summary.replayedBatches} batches replayed`,
    );
  }, 240_000);

  it("SIGTERM: exits 0 with every record received output, and a restart counts none twice", async () => {
    const { producer, first } = await tenFilesAndAJob(7);
    const producing = producer.run(20); // files keep arriving while the job stops
    await new Promise((resolve) => setTimeout(resolve, 300));
    first.signal("SIGTERM");
    expect(await first.exited).toEqual({ code: 0, signal: null });
    // What the stopped job received it also output: its batches' lines are all counted.
    const linesReceived = first.batches.reduce((sum, batch) => sum + batch.records, 0);
    expect(linesReceived).toBeGreaterThan(0);
    const countedAfterStop = total(
      sumOverBatches(await readFileOutput(join(root, "out", "counts"))),
    );
    await producing;

    const second = new JobProcess(settings());
    jobs.push(second);
    await second.waitFor((out) => out.startsWith("started"), "the restart");
    // A graceful stop leaves nothing to replay.
    expect(second.recovery?.replayedBatches).toEqual([]);
    await untilCounted(second, total(producer.expected), 60_000);
    second.signal("SIGTERM");
    expect(await second.exited).toEqual({ code: 0, signal: null });
    await verify(producer.expected);
    expect(countedAfterStop).toBeLessThanOrEqual(total(producer.expected));
  }, 120_000);

  it("one job per checkpoint folder: a second is refused while the first runs, a restart right after a SIGKILL takes the folder over", async () => {
    const { producer, first } = await tenFilesAndAJob(11);

    // The same job started again on the folder: refused before it touches anything.
    const second = new JobProcess(settings());
    jobs.push(second);
    expect(await second.exited).toEqual({ code: 1, signal: null });
    expect(second.stderr).toContain("is in use by another run of the job");
    expect(second.stderr).toContain(`process ${first.pid} on host`);
    // The first goes on counting what arrives.
    for (let i = 0; i < 5; i++) await producer.writeFile();
    await untilCounted(first, total(producer.expected), 60_000);

    // Killed, and started again at once, before the killed process was reaped.
    first.signal("SIGKILL");
    const third = new JobProcess(settings());
    jobs.push(third);
    await third.waitFor((out) => out.startsWith("started"), "the restart");
    for (let i = 0; i < 5; i++) await producer.writeFile();
    await untilCounted(third, total(producer.expected), 60_000);
    third.signal("SIGTERM");
    expect(await third.exited).toEqual({ code: 0, signal: null });
    await verify(producer.expected);
  }, 120_000);
});
