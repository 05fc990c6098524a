// Chaos inside the multi-step writes of the commit protocol, with a source that replays from
// checkpointed offsets (files): for each step of writing a batch record, a checkpoint and
// pruning the old ones — temporary file created, written, flushed, renamed into place, folder
// flushed, old file removed — a file arrives and the job kills itself (SIGKILL) right after that
// step; the first run dies inside its very first checkpoint. Every word must be counted exactly
// once in the end, and the totals and windows must agree with the counts.
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { dieAt, expectFileOutputs, lastRunCountingTo } from "./crash-point-runs.js";
import { countWords } from "./ground-truth.js";
import { type JobProcess, SeededRandom } from "./job-process.js";
import type { ChaosJobSettings, CrashSettings } from "./jobs/word-count-settings.js";

const BATCH_MS = 200;
const WORDS = "red orange yellow green blue indigo violet".split(" ");

/** The steps the job dies after, in the order a run takes them. */
const CRASH_POINTS: readonly { readonly name: string; readonly crash: CrashSettings }[] = [
  { name: "batch record created, empty", crash: { step: "open", path: "batch-" } },
  { name: "batch record written, not flushed", crash: { step: "write", path: "batch-" } },
  { name: "batch record flushed, not renamed", crash: { step: "sync", path: "batch-" } },
  { name: "batch record renamed, folder not flushed", crash: { step: "rename", path: "batch-" } },
  { name: "checkpoint created, empty", crash: { step: "open", path: "checkpoint-" } },
  { name: "checkpoint written, not flushed", crash: { step: "write", path: "checkpoint-" } },
  { name: "checkpoint flushed, not renamed", crash: { step: "sync", path: "checkpoint-" } },
  {
    name: "checkpoint renamed, folder not flushed",
    crash: { step: "rename", path: "checkpoint-" },
  },
  {
    name: "folder flushed after a checkpoint, sources not acknowledged",
    crash: { step: "syncDirectory", path: "state", after: { step: "rename", path: "checkpoint-" } },
  },
  {
    name: "an old checkpoint pruned",
    crash: { step: "remove", path: "checkpoint-", after: { step: "rename", path: "checkpoint-" } },
  },
  {
    name: "an old batch record pruned",
    crash: { step: "remove", path: "batch-", after: { step: "rename", path: "checkpoint-" } },
  },
];

let root: string;
const jobs: JobProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-chaos-file-crash-points-"));
});

afterAll(async () => {
  for (const job of jobs) job.signal("SIGKILL");
  await Promise.all(jobs.map((job) => job.exited));
  // CHAOS_KEEP=1 keeps the checkpoints and outputs for inspection.
  if (root !== undefined && process.env.CHAOS_KEEP !== "1") {
    await rm(root, { recursive: true, force: true });
  }
});

describe("chaos: the file source killed inside each step of the commit protocol's writes", () => {
  it(`nothing lost, nothing counted twice (${CRASH_POINTS.length + 1} crash points)`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = new SeededRandom(seed);
    const input = join(root, "in");
    await mkdir(input, { recursive: true });
    const base: ChaosJobSettings = {
      // Named so that "checkpoint-" and "batch-" match only the files in it.
      checkpoint: join(root, "state"),
      batchIntervalMs: BATCH_MS,
      source: { kind: "file", directory: input },
      outputs: {
        counts: [{ kind: "file", directory: join(root, "out", "counts") }],
        totals: [{ kind: "file", directory: join(root, "out", "totals") }],
        windows: [{ kind: "file", directory: join(root, "out", "windows") }],
      },
    };
    const expected = new Map<string, number>();
    let files = 0;
    /** Moves a file of words into the folder (written elsewhere first, as the source asks). */
    const moveIn = async (): Promise<void> => {
      const lines = Array.from({ length: random.int(3, 20) }, () =>
        Array.from({ length: random.int(1, 5) }, () => random.pick(WORDS)).join(" "),
      );
      const name = `words-${String(files++).padStart(4, "0")}.txt`;
      const hidden = join(root, `.${name}.writing`);
      await writeFile(hidden, `${lines.join("\n")}\n`);
      await rename(hidden, join(input, name));
      countWords(lines, expected);
    };
    // The first run: files already there, and the job dies inside its first checkpoint.
    await moveIn();
    const first = { step: "rename", path: "checkpoint-" } as const;
    await dieAt(base, first, "the first run's first checkpoint", jobs, seed);
    for (const point of CRASH_POINTS) {
      await moveIn();
      await moveIn();
      await dieAt(base, point.crash, point.name, jobs, seed);
    }

    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    await lastRunCountingTo(base, join(root, "out"), total, jobs);
    await expectFileOutputs(join(root, "out"), expected, BATCH_MS, seed);
    console.info(
      `chaos (file crash points): seed ${seed}, ${CRASH_POINTS.length + 1} crashes, ${files} files, ${total} words`,
    );
  }, 900_000);
});
